// Package ownerpb holds the messages of the path-owner grain, generated
// from owner.proto: messages crossing nodes must be protobuf.
package ownerpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative owner.proto
