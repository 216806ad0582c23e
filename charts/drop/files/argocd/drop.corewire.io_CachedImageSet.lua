-- Argo CD health of a Drop CachedImageSet (argocd-cm key:
-- resource.customizations.health.drop.corewire.io_CachedImageSet).
-- status.phase is Go Drop's: Ready (every child cached) is Healthy, Degraded is Degraded, Pending is
-- Progressing. The message is the Ready condition's (or status.message): what kubectl describe says.
-- Only Lua's base and table libraries: Argo CD opens no others for custom health checks.
local function readyMessage(status)
  if status.conditions ~= nil then
    for _, condition in ipairs(status.conditions) do
      if condition.type == "Ready" and condition.message ~= nil and condition.message ~= "" then
        return condition.message
      end
    end
  end
  return status.message or status.ready or ""
end

local status = obj.status
if status == nil or status.phase == nil then
  return { status = "Progressing", message = "Waiting for Drop to report a status" }
end
if obj.metadata.generation ~= nil and status.observedGeneration ~= nil
    and status.observedGeneration < obj.metadata.generation then
  return { status = "Progressing", message = "Drop has not reconciled the latest spec yet" }
end
if status.phase == "Ready" then
  return { status = "Healthy", message = readyMessage(status) }
end
if status.phase == "Degraded" then
  return { status = "Degraded", message = readyMessage(status) }
end
return { status = "Progressing", message = readyMessage(status) }
