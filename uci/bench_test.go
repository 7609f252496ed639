package uci

import (
	"bytes"
	"fmt"
	"os"
	"testing"
)

// benchConfig is OpenWrt's default firewall plus 200 static DHCP leases, a
// large but realistic config for a community node.
func benchConfig(b *testing.B) []byte {
	data, err := os.ReadFile("testdata/firewall")
	if err != nil {
		b.Fatal(err)
	}
	buf := bytes.NewBuffer(data)
	for i := range 200 {
		fmt.Fprintf(buf, "\nconfig host\n\toption name 'node-%d'\n\toption mac '02:00:00:00:%02x:%02x'\n\toption ip '10.%d.%d.1'\n\toption leasetime 'infinite'\n",
			i, i/256, i%256, i/256, i%256)
	}
	return buf.Bytes()
}

func BenchmarkParse(b *testing.B) {
	data := benchConfig(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("firewall", data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExport(b *testing.B) {
	p, err := Parse("firewall", benchConfig(b))
	if err != nil {
		b.Fatal(err)
	}
	var out bytes.Buffer
	for b.Loop() {
		out.Reset()
		exportPackage(&out, p, true, false)
	}
	b.SetBytes(int64(out.Len()))
}
