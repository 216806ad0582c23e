// The prometheus-operator release whose ServiceMonitor CRD validates charts/drop's ServiceMonitor.
// Only its YAML is used (example/prometheus-operator-crd/): nothing here is built, so this module
// stays out of the binaries' build graph. v0.85.0 is the newest version of the root module that the
// module proxy serves.
module drop.local/controlplane/prometheus-operator

go 1.26

require github.com/prometheus-operator/prometheus-operator v0.85.0
