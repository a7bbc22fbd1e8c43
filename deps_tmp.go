package main
import (
 _ "github.com/asynkron/protoactor-go/actor"
 _ "github.com/hashicorp/go-hclog"
 _ "github.com/pion/rtp"
 _ "github.com/pion/rtcp"
 _ "github.com/pion/sdp/v3"
 _ "go.uber.org/goleak"
 _ "golang.org/x/image/draw"
 _ "golang.org/x/sys/unix"
)
func main(){}
