// Command hello is a minimal Go program: TestIPKRejects builds it for MIPS
// without GOMIPS=softfloat to show that build-ipk.sh refuses such a binary.
package main

import "os"

func main() { os.Stdout.WriteString("hello\n") }
