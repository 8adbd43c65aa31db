// Generated from test/harness/kube/versions.ts by 'node test/harness/kube/cli.ts pin'; edit versions.ts, not this file.
module local/rmqproxy/kwok-bin

go 1.26.0

require (
	sigs.k8s.io/kwok v0.8.0
)

tool (
	sigs.k8s.io/kwok/cmd/kwok
)
