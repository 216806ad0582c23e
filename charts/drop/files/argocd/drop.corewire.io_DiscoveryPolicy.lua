-- Argo CD health of a Drop DiscoveryPolicy (argocd-cm key:
-- resource.customizations.health.drop.corewire.io_DiscoveryPolicy).
-- As Go Drop has it: no phase to read, the Ready condition says. True (every source answered its
-- last sync) is Healthy, False (a source failed: the reason and message say which) is Degraded,
-- none yet (before the first sync) is Progressing. A failed sync keeps the last good image list,
-- so Degraded here means "look at the sources", not "the cache is gone".
local status = obj.status
if status == nil or status.conditions == nil then
  return { status = "Progressing", message = "Waiting for the first sync" }
end
if obj.metadata.generation ~= nil and status.observedGeneration ~= nil
    and status.observedGeneration < obj.metadata.generation then
  return { status = "Progressing", message = "Drop has not synced the latest spec yet" }
end
for _, condition in ipairs(status.conditions) do
  if condition.type == "Ready" then
    local message = condition.message or ""
    if condition.status == "True" then
      return { status = "Healthy", message = message }
    end
    if condition.status == "False" then
      return { status = "Degraded", message = (condition.reason or "") .. ": " .. message }
    end
  end
end
return { status = "Progressing", message = "No Ready condition yet" }
