// The Knative Serving version whose Service CRD the deploy manifests (config/) are validated
// against. Only its YAML is used: nothing here is built, so this module stays out of ../go.mod's
// build graph. Knative 1.22 = Go module v0.49.x; v0.49.1 is its latest patch on the module proxy.
// The Eventing CRDs (ApiServerSource, PingSource) come from the knative.dev/eventing that ../go.mod
// pins for the receive adapter, so the adapter and the CRDs can never disagree.
module drop.local/controlplane/knative

go 1.26

require knative.dev/serving v0.49.1
