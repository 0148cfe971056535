package output

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// Progress reports long waits on stderr: on a TTY one updating line, otherwise a line at most
// every Interval (and whenever the message changes after that). Colour and cursor control only on
// a TTY; NO_COLOR is honoured.
type Progress struct {
	w        io.Writer
	tty      bool
	Interval time.Duration

	mu       sync.Mutex
	last     string
	lastTime time.Time
	dirty    bool
	// pending is the newest update not printed (within a second of the last), which Done
	// prints: a wait's last state is always said.
	pending string
}

// NewProgress writes to w (normally the command's stderr).
func NewProgress(w io.Writer) *Progress {
	tty := false
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb" {
		tty = true
	}
	return &Progress{w: w, tty: tty, Interval: 5 * time.Second}
}

// Update shows the current state of a wait, e.g. "kubeflow: 41/52 pods ready".
func (p *Progress) Update(format string, args ...any) {
	if p == nil {
		return
	}
	msg := fmt.Sprintf(format, args...)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", msg)
		p.dirty = true
		return
	}
	if msg == p.last && time.Since(p.lastTime) < p.Interval {
		return
	}
	if msg != p.last && !p.lastTime.IsZero() && time.Since(p.lastTime) < time.Second {
		p.pending = msg
		return
	}
	p.last, p.lastTime, p.pending = msg, time.Now(), ""
	fmt.Fprintln(p.w, msg)
}

// Logf prints a line that stays (a step started or finished, a warning).
func (p *Progress) Logf(format string, args ...any) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dirty {
		fmt.Fprint(p.w, "\r\033[K")
		p.dirty = false
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}

// Done clears an updating line; without a TTY it prints the last update not yet printed.
func (p *Progress) Done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending != "" && p.pending != p.last {
		fmt.Fprintln(p.w, p.pending)
		p.last, p.lastTime = p.pending, time.Now()
	}
	p.pending = ""
	if p.dirty {
		fmt.Fprint(p.w, "\r\033[K")
		p.dirty = false
	}
}
