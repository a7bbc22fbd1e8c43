package web

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
)

// OpenBrowser asks the desktop to show url, trying xdg-open, then Chromium
// or Chrome, then Firefox (on macOS "open", on Windows the URL handler). It
// is best effort: it returns once a program was started, or an error when
// there is none or no graphical session, so that the caller can print the
// URL instead.
func OpenBrowser(url string) error {
	var candidates [][]string
	switch runtime.GOOS {
	case "darwin":
		candidates = [][]string{{"open", url}}
	case "windows":
		candidates = [][]string{{"rundll32", "url.dll,FileProtocolHandler", url}}
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return errors.New("no graphical session (DISPLAY and WAYLAND_DISPLAY unset)")
		}
		candidates = [][]string{
			{"xdg-open", url},
			{"chromium", url},
			{"chromium-browser", url},
			{"google-chrome", url},
			{"firefox", url},
		}
	}
	for _, c := range candidates {
		path, err := exec.LookPath(c[0])
		if err != nil {
			continue
		}
		cmd := exec.Command(path, c[1:]...)
		if err := cmd.Start(); err != nil {
			continue
		}
		// Reap it whenever it ends (xdg-open at once, a browser much later).
		go cmd.Wait()
		return nil
	}
	return fmt.Errorf("no browser found to open %s", url)
}
