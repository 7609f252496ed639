package agent

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadSysInfo: the model and the release come from a root's
// /tmp/sysinfo/model and /etc/openwrt_release; absent or unfit values are
// left out, and a file that is not a regular one is refused.
func TestReadSysInfo(t *testing.T) {
	tests := []struct {
		name, model, release string // file contents; "-" for no file
		wantModel, wantRel   string
	}{
		{"openwrt", "TP-Link Archer C7 v5\n",
			"DISTRIB_ID='OpenWrt'\nDISTRIB_RELEASE='23.05.3'\nDISTRIB_DESCRIPTION='OpenWrt 23.05.3 r23809-234f1a2efa'\nDISTRIB_TAINTS=''\n",
			"TP-Link Archer C7 v5", "OpenWrt 23.05.3 r23809-234f1a2efa"},
		{"double quotes", "x86\n", `DISTRIB_DESCRIPTION="OpenWrt SNAPSHOT"` + "\n", "x86", "OpenWrt SNAPSHOT"},
		{"no files", "-", "-", "", ""},
		{"no description", "-", "DISTRIB_ID='OpenWrt'\n", "", ""},
		{"control characters", "evil\x1b[2Jmodel\n", "DISTRIB_DESCRIPTION='a\x07b'\n", "", ""},
		{"too long", strings.Repeat("m", 129), "DISTRIB_DESCRIPTION='" + strings.Repeat("r", 129) + "'\n", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for name, text := range map[string]string{"tmp/sysinfo/model": tt.model, "etc/openwrt_release": tt.release} {
				if text != "-" {
					writeFile(t, filepath.Join(root, name), text)
				}
			}
			model, release, err := readSysInfo(root)
			if err != nil || model != tt.wantModel || release != tt.wantRel {
				t.Errorf("readSysInfo = %q, %q, %v; want %q, %q", model, release, err, tt.wantModel, tt.wantRel)
			}
		})
	}
	t.Run("a FIFO is refused", func(t *testing.T) {
		root := t.TempDir()
		writeFile(t, filepath.Join(root, "etc/openwrt_release"), "DISTRIB_DESCRIPTION='OpenWrt 23.05.3'\n")
		os.MkdirAll(filepath.Join(root, "tmp/sysinfo"), 0o755)
		if err := syscall.Mkfifo(filepath.Join(root, "tmp/sysinfo/model"), 0o644); err != nil {
			t.Fatal(err)
		}
		model, release, err := readSysInfo(root)
		if err == nil || !strings.Contains(err.Error(), "not a regular file") || model != "" || release != "OpenWrt 23.05.3" {
			t.Errorf("readSysInfo = %q, %q, %v; want the FIFO refused, the release read", model, release, err)
		}
	})
	t.Run("too large", func(t *testing.T) {
		root := t.TempDir()
		writeFile(t, filepath.Join(root, "tmp/sysinfo/model"), strings.Repeat("x", maxSysInfoBytes+1))
		if _, _, err := readSysInfo(root); err == nil {
			t.Error("a model file above the limit was read")
		}
	})
}
