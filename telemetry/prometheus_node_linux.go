package telemetry

import (
	"bytes"
	"math"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// nodeScrape reads what prometheus-node-exporter-lua's collectors read, at
// scrape time: cpu, conntrack, entropy, filefd, filesystem, loadavg,
// meminfo, netclass, netdev, thermal and uname. A file that is missing or
// unreadable leaves its families out, as the exporter does.
type nodeScrape struct {
	w    *promWriter
	root string
	buf  []byte
}

// nodeFiles are single-number files and their gauges (file-nr's first and
// third numbers, loadavg's first three).
var nodeFiles = []string{
	"/proc/sys/net/netfilter/nf_conntrack_count", "node_nf_conntrack_entries",
	"/proc/sys/net/netfilter/nf_conntrack_max", "node_nf_conntrack_entries_limit",
	"/proc/sys/kernel/random/entropy_avail", "node_entropy_available_bits",
	"/proc/sys/kernel/random/poolsize", "node_entropy_pool_size_bits",
	"/proc/sys/fs/file-nr", "node_filefd_allocated _ node_filefd_maximum",
	"/proc/loadavg", "node_load1 node_load5 node_load15",
}

func appendNodeMetrics(w *promWriter, root string) {
	s := &nodeScrape{w: w, root: root}
	s.cpu()
	for i := 0; i < len(nodeFiles); i += 2 {
		v := bytes.Fields(s.read(nodeFiles[i]))
		for j, name := range strings.Fields(nodeFiles[i+1]) {
			if j < len(v) && name != "_" {
				if x := num(v[j]); !math.IsNaN(x) {
					s.w.sample(name, promGauge, "", x)
				}
			}
		}
	}
	s.filesystems()
	s.meminfo()
	s.netclass()
	s.netdev()
	s.thermal()
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		w.sample("node_uname_info", promGauge, "", 1, "domainname", unix.ByteSliceToString(u.Domainname[:]),
			"machine", unix.ByteSliceToString(u.Machine[:]), "nodename", unix.ByteSliceToString(u.Nodename[:]),
			"release", unix.ByteSliceToString(u.Release[:]), "sysname", unix.ByteSliceToString(u.Sysname[:]),
			"version", unix.ByteSliceToString(u.Version[:]))
	}
}

// read returns the file at root+path (valid until the next read), nil
// when it cannot be read.
func (s *nodeScrape) read(path string) []byte {
	b, err := readInto(s.buf, s.root+path)
	s.buf = b
	if err != nil {
		return nil
	}
	return b
}

// num parses a decimal or 0x-prefixed number; NaN for anything else.
func num(b []byte) float64 {
	t := string(bytes.TrimSpace(b))
	if v, err := strconv.ParseInt(t, 0, 64); err == nil {
		return float64(v)
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

// cut returns the line b starts with and what follows it.
func cut(b []byte) (line, rest []byte) {
	line, rest, _ = bytes.Cut(b, []byte{'\n'})
	return line, rest
}

// cpuModes are the columns of a cpuN line of /proc/stat.
var cpuModes = []string{"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guest_nice"}

// statCounters are the other lines of /proc/stat the exporter reports:
// key, family, type.
var statCounters = []string{
	"btime", "node_boot_time_seconds", promGauge,
	"ctxt", "node_context_switches_total", promCounter,
	"intr", "node_intr_total", promCounter,
	"processes", "node_forks_total", promCounter,
	"procs_running", "node_procs_running_total", promGauge,
	"procs_blocked", "node_procs_blocked_total", promGauge,
}

// cpu writes the exporter's cpu collector from /proc/stat: CPU seconds per
// core and mode (USER_HZ ticks / 100), and the kernel's counters.
func (s *nodeScrape) cpu() {
	for b := s.read("/proc/stat"); len(b) > 0; {
		var line []byte
		line, b = cut(b)
		f := bytes.Fields(line)
		if len(f) < 2 {
			continue
		}
		k := string(f[0])
		if len(k) > 3 && k[:3] == "cpu" {
			for i := 1; i < len(f) && i <= len(cpuModes); i++ {
				s.w.sample("node_cpu_seconds_total", promCounter, "", num(f[i])/userHZ, "cpu", k, "mode", cpuModes[i-1])
			}
			continue
		}
		for i := 0; i < len(statCounters); i += 3 {
			if k == statCounters[i] {
				s.w.sample(statCounters[i+1], statCounters[i+2], "", num(f[1]))
			}
		}
	}
}

// meminfo writes every line of /proc/meminfo as the exporter names it:
// node_memory_<Field>_bytes with "(" as "_" and ")" dropped, kB times
// 1024, counts (HugePages_Total) as they are.
func (s *nodeScrape) meminfo() {
	var name []byte
	for b := s.read("/proc/meminfo"); len(b) > 0; {
		var line []byte
		line, b = cut(b)
		k, rest, _ := bytes.Cut(line, []byte{':'})
		f := bytes.Fields(rest)
		if len(f) == 0 {
			continue
		}
		v := num(f[0])
		if len(f) > 1 && string(f[1]) == "kB" {
			v *= 1024
		}
		name = append(name[:0], "node_memory_"...)
		for _, c := range k {
			if c == '(' {
				c = '_'
			}
			if c != ')' {
				name = append(name, c)
			}
		}
		if !math.IsNaN(v) {
			s.w.sample(string(append(name, "_bytes"...)), promGauge, "", v)
		}
	}
}

// netdevFields are the columns of /proc/net/dev.
var netdevFields = []string{"receive_bytes", "receive_packets", "receive_errs", "receive_drop", "receive_fifo",
	"receive_frame", "receive_compressed", "receive_multicast", "transmit_bytes", "transmit_packets", "transmit_errs",
	"transmit_drop", "transmit_fifo", "transmit_colls", "transmit_carrier", "transmit_compressed"}

// netdev writes node_network_<column>_total{device} from /proc/net/dev.
func (s *nodeScrape) netdev() {
	var labels [][]string
	var v []float64
	for b := s.read("/proc/net/dev"); len(b) > 0; {
		var line []byte
		line, b = cut(b)
		n, rest, _ := bytes.Cut(line, []byte{':'})
		f := bytes.Fields(rest)
		if len(f) < len(netdevFields) {
			continue // the two header lines
		}
		labels = append(labels, []string{"device", string(bytes.TrimSpace(n))})
		for i := range netdevFields {
			v = append(v, num(f[i]))
		}
	}
	s.w.table("node_network_", netdevFields, "_total", v, labels)
}

// netclassAttrs are the /sys/class/net/<dev> attributes the exporter's
// netclass collector reports, and netclassFamilies their families (after
// node_network_).
var (
	netclassAttrs = []string{"addr_assign_type", "carrier", "carrier_changes", "carrier_up_count", "carrier_down_count",
		"dev_id", "dormant", "flags", "ifindex", "iflink", "link_mode", "mtu", "name_assign_type", "netdev_group",
		"tx_queue_len", "type", "speed"}
	netclassFamilies = []string{"address_assign_type", "carrier", "carrier_changes_total", "carrier_up_changes_total",
		"carrier_down_changes_total", "device_id", "dormant", "flags", "iface_id", "iface_link", "iface_link_mode", "mtu_bytes",
		"name_assign_type", "net_dev_group", "transmit_queue_length", "protocol_type", "speed_bytes"}
)

// netInfoAttrs are the attributes that label node_network_info.
var netInfoAttrs = []string{"address", "broadcast", "duplex", "ifalias", "operstate"}

// netclass writes node_network_info and the attributes of every device in
// /sys/class/net; an attribute a device cannot report (the carrier of a
// device that is down, the speed of a virtual one) is left out.
func (s *nodeScrape) netclass() {
	ents, _ := os.ReadDir(s.root + "/sys/class/net")
	var labels [][]string
	var v []float64
	for _, e := range ents {
		dir := "/sys/class/net/" + e.Name() + "/"
		info := []string{"device", e.Name()}
		for _, a := range netInfoAttrs {
			if b := s.read(dir + a); b != nil {
				info = append(info, a, string(bytes.TrimSpace(b)))
			}
		}
		s.w.sample("node_network_info", promGauge, "", 1, info...)
		for _, a := range netclassAttrs {
			v = append(v, num(s.read(dir+a)))
		}
		if sp := &v[len(v)-1]; *sp < 0 {
			*sp = math.NaN() // speed -1: unknown
		} else {
			*sp *= 1e6 / 8 // Mbit/s to bytes/s
		}
		labels = append(labels, info[:2])
	}
	s.w.table("node_network_", netclassFamilies, "", v, labels)
}

// fsSkippedPrefixes are the mount points fsSkipped leaves out, with
// what is below them.
var fsSkippedPrefixes = []string{"/dev", "/proc", "/run/credentials", "/sys", "/var/lib/docker", "/var/lib/containers/storage"}

// fsSkipped tells the mounts the exporter leaves out (node_exporter's
// list): pseudo filesystems, read-only images and the overlay on /.
func fsSkipped(mount, fstype string) bool {
	for _, p := range fsSkippedPrefixes {
		if strings.HasPrefix(mount, p) {
			return true
		}
	}
	return strings.Contains(" autofs binfmt_misc bpf cgroup cgroup2 configfs debugfs devpts devtmpfs fusectl hugetlbfs iso9660"+
		" mqueue nsfs overlay proc procfs pstore rpc_pipefs securityfs selinuxfs squashfs sysfs tracefs ", " "+fstype+" ")
}

// filesystemFamilies are the exporter's filesystem families (after
// node_filesystem_), in the order filesystems reads them.
var filesystemFamilies = []string{"size_bytes", "free_bytes", "avail_bytes", "files", "files_free", "readonly"}

// filesystems writes node_filesystem_*{device,fstype,mountpoint} for the
// mounts of /proc/self/mounts the exporter reports.
func (s *nodeScrape) filesystems() {
	var labels [][]string
	var v []float64
	for b := s.read("/proc/self/mounts"); len(b) > 0; {
		var line []byte
		line, b = cut(b)
		f := bytes.Fields(line)
		if len(f) < 3 || fsSkipped(string(f[1]), string(f[2])) {
			continue
		}
		var st unix.Statfs_t
		if unix.Statfs(s.root+string(f[1]), &st) != nil {
			continue
		}
		bs := uint64(st.Bsize)
		labels = append(labels, []string{"device", string(f[0]), "fstype", string(f[2]), "mountpoint", string(f[1])})
		for _, x := range [...]uint64{st.Blocks * bs, st.Bfree * bs, st.Bavail * bs, st.Files, st.Ffree, uint64(st.Flags & unix.ST_RDONLY)} {
			v = append(v, float64(x))
		}
	}
	s.w.table("node_filesystem_", filesystemFamilies, "", v, labels)
}

// thermalAttrs label node_thermal_zone_temp: the first two are required.
var thermalAttrs = []string{"type", "policy", "mode", "passive"}

// thermal writes node_thermal_zone_temp{zone,type,policy[,mode][,passive]}
// for thermal_zone0, 1, ... up to the first without type, policy or temp.
func (s *nodeScrape) thermal() {
	for i := 0; ; i++ {
		z := strconv.Itoa(i)
		dir := "/sys/class/thermal/thermal_zone" + z + "/"
		labels := []string{"zone", z}
		for j, a := range thermalAttrs {
			b := s.read(dir + a)
			if b == nil && j < 2 {
				return
			}
			if b != nil {
				labels = append(labels, a, string(bytes.TrimSpace(b)))
			}
		}
		v := num(s.read(dir + "temp"))
		if math.IsNaN(v) {
			return
		}
		s.w.sample("node_thermal_zone_temp", promGauge, "", v/1000, labels...)
	}
}
