//go:build !linux

package main

import "time"

// pageOutStartup: MADV_PAGEOUT is Linux's (pageout_linux.go).
func pageOutStartup(time.Duration) {}
