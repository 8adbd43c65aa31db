#!/usr/bin/env bash
# Generates static protobufjs code for apache.rocketmq.v2 from the .proto files shipped in the
# pinned rocketmq-client-nodejs npm package. The output folder is git-ignored: the contract is
# never copied into the repository.
set -euo pipefail
out="${1:?usage: gen-proto.sh OUT_DIR}"
proto_root="node_modules/rocketmq-client-nodejs/proto"
[ -d "$proto_root/apache/rocketmq/v2" ] || { echo "missing $proto_root: run npm ci" >&2; exit 1; }
mkdir -p "$out"
files=("$proto_root"/apache/rocketmq/v2/{definition,service,admin}.proto)
# int64 fields are offsets, timestamps and durations (< 2^53): plain numbers beat Long objects.
# -p lets pbjs resolve the imports of google/protobuf/*.proto from protobufjs' bundled copies.
npx pbjs -t static-module -w es6 --force-number --no-verify --no-delimited --no-beautify \
  -p "$proto_root" -o "$out/rocketmq.js" "${files[@]}"
npx pbts -o "$out/rocketmq.d.ts" "$out/rocketmq.js"
echo "generated $out/rocketmq.{js,d.ts}"
