-- Argo CD health of a Drop PullPolicy (argocd-cm key:
-- resource.customizations.health.drop.corewire.io_PullPolicy).
-- Settings only, no status: healthy once it exists. A CachedImage that names a PullPolicy that does
-- not exist says so in its own health (PolicyNotFound, Degraded).
return { status = "Healthy", message = "PullPolicy settings" }
