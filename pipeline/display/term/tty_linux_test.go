package term

import (
	"bytes"
	"fmt"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/actorstream/actorstream/pipeline"
)

// openPTY returns the two ends of a new pseudo-terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open pts: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// TestTerminalInput: a terminal is put in raw mode (keys arrive without
// Enter), the key reader ends with Run, and the settings are restored.
func TestTerminalInput(t *testing.T) {
	master, slave := openPTY(t)
	before, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if in, restore := prepareInput(slave); !in.polls {
		restore()
		t.Fatal("a terminal's reader does not poll")
	} else {
		restore()
	}
	f := newFake()
	var out bytes.Buffer
	d := New(Config{Out: &out, In: slave, Size: func() (int, int) { return 20, 6 }, Controls: f, Stats: f.Stats})
	errc := runWith(t, d, make(chan *pipeline.Picture))

	// No newline: only raw mode delivers these at once.
	time.Sleep(100 * time.Millisecond)
	master.Write([]byte("s"))
	select {
	case <-f.called:
	case <-time.After(5 * time.Second):
		t.Fatal("key not delivered: terminal not in raw mode?")
	}
	master.Write([]byte("q"))
	start := time.Now()
	if err := wait(t, errc); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Run took %v to end", took)
	}
	if got := f.Calls(); got != "setup, teardown" {
		t.Errorf("calls %q", got)
	}
	after, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if *after != *before {
		t.Errorf("terminal settings not restored:\n before %+v\n after  %+v", before, after)
	}
}
