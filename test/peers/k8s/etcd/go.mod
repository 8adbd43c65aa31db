// Generated from test/harness/kube/versions.ts by 'node test/harness/kube/cli.ts pin'; edit versions.ts, not this file.
module local/rmqproxy/etcd-bin

go 1.26.0

require (
	go.etcd.io/etcd/server/v3 v3.6.16
)

tool (
	go.etcd.io/etcd/server/v3
)
