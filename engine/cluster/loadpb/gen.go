// Package loadpb holds the load report nodes gossip to each other,
// generated from load.proto: messages crossing nodes must be protobuf.
package loadpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative load.proto
