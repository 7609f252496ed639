package agent

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/wire"
)

// TestControlSocketRootOnly: the control socket serves root and nobody
// else: an unprivileged user cannot reach it (0700 directory), and when the
// file modes are loosened the agent itself refuses the client (SO_PEERCRED).
func TestControlSocketRootOnly(t *testing.T) {
	requireRoot(t)
	ns := newNetns(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "config")
	key, _ := wire.GenerateKey()
	writeFile(t, filepath.Join(conf, "nodekeeper"), strings.Replace(strings.Replace(labConfig("ctl-"+randHex(6), dir, ns, key.Public().String(), ""),
		"config slivers 'slivers'", "config slivers 'slivers'\n\toption enabled '0'", 1),
		"config network 'network'", "config network 'network'\n\toption enabled '0'", 1))
	a := startAgent(t, ns, conf)
	sock := filepath.Join(dir, "run", "control.sock")
	status := func(uid int, args ...string) (string, int) {
		cmd := exec.Command(nkBin, append(args, "--socket", sock)...)
		if uid != 0 {
			cmd.Dir = "/" // the test's directory may be closed to the user
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
		}
		return nk(t, cmd)
	}
	eventually(t, "root's status through the socket", 30*time.Second, func() error {
		if out, code := status(0, "status"); code != 0 || !strings.Contains(out, "state:") {
			return fmt.Errorf("exit %d: %s", code, out)
		}
		return nil
	})
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode: %v, %v; want 0600", fi.Mode(), err)
	}
	if fi, err := os.Stat(filepath.Dir(sock)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("socket directory mode: %v, %v; want 0700", fi.Mode(), err)
	}
	const nobody = 65534
	tests := []struct {
		name   string
		loosen bool
		args   []string
		want   string
	}{
		{"status, as the files are", false, []string{"status"}, "permission denied"},
		{"sliver list, as the files are", false, []string{"sliver", "list"}, "permission denied"},
		{"status, modes loosened", true, []string{"status"}, "the control socket is root's"},
		{"sliver list, modes loosened", true, []string{"sliver", "list"}, "the control socket is root's"},
		{"policy list, modes loosened", true, []string{"policy", "list"}, "the control socket is root's"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.loosen {
				os.Chmod(filepath.Dir(dir), 0o755) // the test's temporary directories
				os.Chmod(dir, 0o755)
				os.Chmod(filepath.Dir(sock), 0o755)
				os.Chmod(sock, 0o666)
			}
			out, code := status(nobody, tt.args...)
			if code == 0 || !strings.Contains(out, tt.want) {
				t.Errorf("as uid %d: exit %d, output %q; want a failure saying %q", nobody, code, out, tt.want)
			}
		})
	}
	if !strings.Contains(a.log.String(), "client refused: not root") {
		t.Errorf("the agent did not log the refused client:\n%s", a.log.String())
	}
	if out, code := status(0, "status"); code != 0 {
		t.Errorf("root after the refusals: exit %d: %s", code, out)
	}
}
