package sim

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Broker is a mosquitto the simulator's users start on a free loopback
// port (tests and benchmarks: nothing leaves the machine).
type Broker struct {
	Port   int
	dir    string
	cmd    *exec.Cmd
	exited chan struct{}
	log    *os.File
}

// ErrNoMosquitto is returned when mosquitto is not installed.
var ErrNoMosquitto = errors.New("mosquitto not found on PATH")

// StartBroker starts mosquitto with its files in dir (which the caller
// removes) and waits until it listens. extra are more configuration
// lines.
func StartBroker(dir, extra string) (*Broker, error) {
	exe, err := exec.LookPath("mosquitto")
	if err != nil {
		return nil, ErrNoMosquitto
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &Broker{Port: l.Addr().(*net.TCPAddr).Port, dir: dir}
	l.Close()
	conf := filepath.Join(dir, "mosquitto.conf")
	// As root mosquitto would switch to its own user, which cannot read a
	// 0700 temporary directory: keep root.
	text := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\n%s\n", b.Port, extra)
	if os.Geteuid() == 0 {
		text = "user root\n" + text
	}
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return nil, err
	}
	if b.log, err = os.OpenFile(filepath.Join(dir, "mosquitto.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err != nil {
		return nil, err
	}
	b.cmd = exec.Command(exe, "-c", conf)
	b.cmd.Stdout, b.cmd.Stderr = b.log, b.log
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := b.cmd.Start(); err != nil {
		b.log.Close()
		return nil, err
	}
	b.exited = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(b.cmd, b.exited)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", b.Addr(), time.Second)
		if err == nil {
			c.Close()
			return b, nil
		}
		select {
		case <-b.exited:
			b.log.Close()
			return nil, fmt.Errorf("mosquitto exited: %s", b.LogText())
		default:
		}
		if time.Now().After(deadline) {
			b.Stop()
			return nil, fmt.Errorf("mosquitto does not listen on %d: %s", b.Port, b.LogText())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Addr is host:port.
func (b *Broker) Addr() string { return fmt.Sprintf("127.0.0.1:%d", b.Port) }

// URL is the broker's tcp:// URL.
func (b *Broker) URL() string { return "tcp://" + b.Addr() }

// PID is mosquitto's process id.
func (b *Broker) PID() int { return b.cmd.Process.Pid }

// Stop ends mosquitto and waits for it.
func (b *Broker) Stop() {
	if b.cmd == nil {
		return
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(10 * time.Second):
		b.cmd.Process.Kill()
		<-b.exited
	}
	b.cmd = nil
	b.log.Close()
}

// LogText is mosquitto's log so far.
func (b *Broker) LogText() string {
	out, _ := os.ReadFile(filepath.Join(b.dir, "mosquitto.log"))
	return string(out)
}
