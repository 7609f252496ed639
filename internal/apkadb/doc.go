// Package apkadb writes and reads apk-tools v3 files: the ADB container of
// `.apk` packages (schema "pckg") and of `packages.adb` repository indexes
// (schema "indx"), the format of OpenWrt 25.x and Alpine.
//
// The layout follows apk-tools' doc/apk-v3.5.scd, src/adb.h and
// src/apk_adb.h: a file is "ADBd" and a raw deflate stream (or, uncompressed,
// the stream itself) of the file header "ADB." plus the schema, then one ADB
// block holding a tree of values, optional SIG blocks signing it, and DATA
// blocks carrying file contents. Values are 32-bit tags (4 bits of type, 28 of
// value or offset); blobs, 32-bit integers, objects and arrays live at offsets
// in the ADB block.
//
// The writer does what `apk mkpkg` and `apk mkndx` of apk-tools 3.0 do, in the
// same order and with the same value sharing, so that its ADB blocks are the
// same bytes as the real tool's for the same input (the tests rebuild the
// packages and index of ../shared/apk-vectors and compare). The reader decodes
// such files back into Go values and checks their signatures.
//
// This package is for build tools (scripts/build-apk.go) and tests: the
// router binary must not import it.
package apkadb
