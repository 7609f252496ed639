package apkadb

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
)

// appendBlock appends a block of type typ with payload parts, padded to the
// block alignment (adb_c_block, adb_c_block_data).
func appendBlock(out []byte, typ uint32, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if uint64(n) > 0x3fffffff-4 {
		// An extended header; apk-tools writes these only past 1 GiB.
		out = binary.LittleEndian.AppendUint32(out, blockExt<<30|typ)
		out = binary.LittleEndian.AppendUint32(out, 0)
		out = binary.LittleEndian.AppendUint64(out, uint64(16+n))
	} else {
		out = binary.LittleEndian.AppendUint32(out, typ<<30|uint32(4+n))
	}
	for _, p := range parts {
		out = append(out, p...)
	}
	for len(out)%blockAlign != 0 {
		out = append(out, 0)
	}
	return out
}

// container returns the uncompressed file: header, the ADB block, one SIG
// block per key, then the data blocks.
func container(schema uint32, adbBlock []byte, keys []*Key, data []DataBlock) ([]byte, error) {
	out := []byte(magicPlain)
	out = binary.LittleEndian.AppendUint32(out, schema)
	out = appendBlock(out, blockADB, adbBlock)
	for _, k := range keys {
		sig, err := k.sign(schema, adbBlock)
		if err != nil {
			return nil, err
		}
		out = appendBlock(out, blockSig, sig)
	}
	for _, d := range data {
		var hdr [8]byte
		binary.LittleEndian.PutUint32(hdr[:], d.Path)
		binary.LittleEndian.PutUint32(hdr[4:], d.File)
		out = appendBlock(out, blockData, hdr[:], d.Content)
	}
	return out, nil
}

// compress is adb_compress with deflate: "ADBd" and a raw deflate stream.
// Go's deflate gives the same bytes for the same input every time.
func compress(stream []byte) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(magicDeflate)
	w, err := flate.NewWriter(&b, flate.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(stream); err != nil {
		return nil, fmt.Errorf("deflate: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("deflate: %w", err)
	}
	return b.Bytes(), nil
}
