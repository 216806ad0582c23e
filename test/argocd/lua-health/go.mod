// Argo CD's Lua VM, pinned, for the test of Drop's Argo CD health checks (charts/drop/files/argocd/).
module drop.test/argocd/lua-health

go 1.26

require github.com/yuin/gopher-lua v1.1.1
