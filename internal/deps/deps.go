//go:build tools

// Package deps pins modules that tests and upcoming code import, so that
// `go mod tidy` keeps them while they are being wired in.
package deps

import (
	_ "github.com/chromedp/chromedp"
	_ "go.uber.org/goleak"
	_ "golang.org/x/term"
)
