// Package engine is the home of actorstream's two programs as libraries:
//
//   - engine/server: the RTSP server (listener, RTSP handlers, media
//     catalog, the pipelines its sessions play);
//   - engine/client: the RTSP client (dialing, transport set-up, the
//     receiving pipeline a Player actor controls), and its publishing
//     side (Publish: a PublishClient actor, the server's send stages);
//   - engine/demo: the generated demo clip;
//   - engine/e2e: end-to-end suites against real peers (interop), hostile
//     input (hostile) and network faults (faults).
//
// The session and player state machines are actors (package actors); the
// media flows through pipelines (package pipeline and its stages).
package engine
