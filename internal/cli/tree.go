package cli

import "github.com/spf13/cobra"

// CommandTree returns the glance command tree (image API v2), for
// generating its manual pages and completion scripts. It runs nothing.
func CommandTree() *cobra.Command {
	a := &app{io: &IOStreams{}, getenv: func(string) string { return "" }, version: "2"}
	return a.newRootFor("2")
}
