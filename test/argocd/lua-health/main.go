// drop-lua-health runs one Argo CD resource health check (Lua) on one object, in gopher-lua set up
// the way Argo CD sets it up for a health check from argocd-cm: only Lua's package, base and table
// libraries, the object as the global `obj` (JSON numbers as Lua numbers, arrays as sequences,
// objects as tables), one second to finish, and the returned table read as {status, message}.
//
//	drop-lua-health check.lua < object.json   →   {"status":"Healthy","message":"…"}
//
// A script error, a result that is not a table, or a status Argo CD does not know exits 1.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// The health statuses Argo CD accepts from a script; anything else it reports as Unknown.
var known = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true,
}

type health struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: drop-lua-health <check.lua> < object.json")
	}
	script, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail(err.Error())
	}
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err.Error())
	}
	var object map[string]any
	if err := json.Unmarshal(input, &object); err != nil {
		fail("the object is not JSON: " + err.Error())
	}
	result, err := run(string(script), object)
	if err != nil {
		fail(err.Error())
	}
	out, _ := json.Marshal(result)
	fmt.Println(string(out))
}

func run(script string, object map[string]any) (health, error) {
	state := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer state.Close()
	for name, open := range map[string]lua.LGFunction{
		lua.LoadLibName: lua.OpenPackage,
		lua.BaseLibName: lua.OpenBase,
		lua.TabLibName:  lua.OpenTable,
	} {
		if err := state.CallByParam(lua.P{Fn: state.NewFunction(open), Protect: true}, lua.LString(name)); err != nil {
			return health{}, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	state.SetContext(ctx)
	state.SetGlobal("obj", toLua(state, object))
	if err := state.DoString(script); err != nil {
		return health{}, err
	}
	returned, ok := state.Get(-1).(*lua.LTable)
	if !ok {
		return health{}, fmt.Errorf("the script returned %s, not a table", state.Get(-1).Type())
	}
	result := health{
		Status:  lua.LVAsString(returned.RawGetString("status")),
		Message: lua.LVAsString(returned.RawGetString("message")),
	}
	if !known[result.Status] {
		return health{}, fmt.Errorf("the script returned status %q, which Argo CD does not know", result.Status)
	}
	return result, nil
}

func toLua(state *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case []any:
		table := state.CreateTable(len(v), 0)
		for _, item := range v {
			table.Append(toLua(state, item))
		}
		return table
	case map[string]any:
		table := state.CreateTable(0, len(v))
		for key, item := range v {
			table.RawSetString(key, toLua(state, item))
		}
		return table
	}
	return lua.LNil
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, "drop-lua-health:", message)
	os.Exit(1)
}
