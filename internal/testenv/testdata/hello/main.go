// Command hello is built by the tests of BuildBinary.
package main

import (
	"fmt"
	"os"
)

func main() { fmt.Println("hello", len(os.Args)-1) }
