package agent

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestFilesNamedBySettings: the files settings name (the MQTT password
// file, the override file) are opened without blocking, must be regular
// files and are read through a limit; an error names the file and never
// quotes what is in it.
func TestFilesNamedBySettings(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, []byte(strings.Repeat("secret-line\n", 10000)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"fifo", fifo, "fifo: not a regular file (fifo)"},
		{"/dev/zero", "/dev/zero", "/dev/zero: not a regular file (character device)"},
		{"directory", dir, "not a regular file (directory)"},
		{"too large", big, "big: larger than 4096 bytes"},
	}
	for _, tt := range tests {
		t.Run("password_file "+tt.name, func(t *testing.T) {
			_, err := loadText(t, "config telemetry 'telemetry'\n\toption password_file '"+tt.path+"'\n")
			if err == nil || !strings.Contains(err.Error(), "option password_file") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v; want one naming option password_file and saying %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("the error quotes the file: %v", err)
			}
		})
		t.Run("override "+tt.name, func(t *testing.T) {
			o := overrideFile{path: tt.path}
			if m, _ := o.get(); m != nil {
				t.Errorf("override from %s: %v, want none", tt.path, m)
			}
		})
	}
}
