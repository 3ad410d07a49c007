package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/go-glance/glance"
	"github.com/go-glance/glance/auth"
	"github.com/go-glance/glance/internal/buildinfo"
)

// globalOptions are the options accepted before (and, here, also after)
// the command: python-glanceclient's own and keystoneauth's. Those that
// say how to log in and where the endpoint is are bound to auth.Options
// directly; unset ones stay zero, for the OS_* variables and clouds.yaml.
type globalOptions struct {
	auth                             auth.Options
	debug, verbose, force, getSchema bool
	collectTiming                    bool
	profile                          string
	endpointType, iface              string // both give auth's Interface; the first wins
	timeout                          float64
	systemScope, trustID             string
	noTokenCache                     bool
}

const rootHelpFooter = `See "glance help COMMAND" for help on a specific command.`

func (a *app) newRoot() *cobra.Command {
	root := a.rootCommand("Manage images in an OpenStack Image service (Glance API v2).")
	add := func(group string, cmds ...*cobra.Command) { addCommands(root, group, cmds...) }
	add("image",
		a.cmdImageList(), a.cmdImageShow(), a.cmdImageCreate(), a.cmdImageUpdate(),
		a.cmdImageUpload(), a.cmdImageDownload(), a.cmdImageDelete(),
		a.cmdImageDeactivate(), a.cmdImageReactivate(),
		a.cmdImageTagUpdate(), a.cmdImageTagDelete(), a.cmdImageTasks(),
		a.cmdImageCreateViaImport(), a.cmdImageStage(), a.cmdImageImport(),
	)
	add("member", a.cmdMemberCreate(), a.cmdMemberDelete(), a.cmdMemberGet(), a.cmdMemberList(), a.cmdMemberUpdate())
	add("info", a.cmdImportInfo(), a.cmdStoresInfo(), a.cmdStoresDelete(), a.cmdExplain(), a.cmdUsage())
	add("task", a.cmdTaskShow(), a.cmdTaskList(), a.cmdTaskCreate())
	add("cache", a.cmdCacheList(), a.cmdCacheQueue(), a.cmdCacheDelete(), a.cmdCacheClear())
	add("location", a.cmdLocationAdd(), a.cmdLocationDelete(), a.cmdLocationUpdate(), a.cmdAddLocation(), a.cmdLocationList())
	add("metadefs", a.mdCommands()...)
	add("shell", a.cmdBashCompletion(), a.cmdHelp(root), a.cmdTokenCacheClear())
	return root
}

// rootCommand is the top command, with the global options and the help
// layout, but no subcommands yet.
func (a *app) rootCommand(short string) *cobra.Command {
	root := &cobra.Command{
		Use:           "glance",
		Short:         short,
		Version:       buildinfo.Read().Version(glance.Version),
		SilenceErrors: true,
		SilenceUsage:  true,
		// Any word that is not a command is a usage error (exit 2).
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("argument <subcommand>: invalid choice: '%s' (see \"glance help\")", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetGlobalNormalizationFunc(normalize)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &usageError{err.Error()}
	})
	a.globalFlags(root.PersistentFlags())
	root.SetHelpFunc(a.help)
	root.SetUsageFunc(func(cmd *cobra.Command) error {
		a.help(cmd, nil)
		return nil
	})
	return root
}

// addCommands adds commands of a help group to root.
func addCommands(root *cobra.Command, group string, cmds ...*cobra.Command) {
	for _, c := range cmds {
		if c.Annotations == nil {
			c.Annotations = map[string]string{}
		}
		c.Annotations["group"] = group
		if c.Args == nil {
			c.Args = noArgs
		}
		root.AddCommand(c)
	}
}

func (a *app) globalFlags(f *pflag.FlagSet) {
	env := a.getenv
	o := &a.g.auth
	f.SortFlags = false
	f.BoolVarP(&a.g.debug, "debug", "d", env("GLANCECLIENT_DEBUG") != "", "Show each request as a curl command line and the response status (secrets redacted). Defaults to env[GLANCECLIENT_DEBUG].")
	f.BoolVarP(&a.g.verbose, "verbose", "v", false, "Show more columns in image-list and image-tasks.")
	f.BoolVar(&a.g.getSchema, "get-schema", false, "Accepted for compatibility; schemas are not cached.")
	f.BoolVar(&a.g.force, "force", false, "Accepted for compatibility: no command asks for confirmation. Before the command, -f means --force.")
	f.StringVar(&o.Endpoint, "os-image-url", "", "Image endpoint to use instead of the catalog's. Defaults to env[OS_IMAGE_URL]. A version at its end (/v2) sets the API version.")
	f.StringVar(&o.ImageAPIVersion, "os-image-api-version", "", "Image API major version, 1 or 2; it decides which commands there are. Defaults to env[OS_IMAGE_API_VERSION], else the version at the end of --os-image-url, else 2.")
	f.StringVar(&a.g.profile, "profile", "", "Accepted for compatibility; profiling is not supported. Defaults to env[OS_PROFILE].")
	f.StringVar(&o.RegionName, "os-region-name", "", "Region whose image endpoint is taken from the catalog. Defaults to env[OS_REGION_NAME].")
	f.StringVar(&o.Token, "os-auth-token", "", "Keystone token to use instead of logging in. Defaults to env[OS_AUTH_TOKEN] or env[OS_TOKEN].")
	f.StringVar(&o.ServiceType, "os-service-type", "", "Catalog service type of the image endpoint (image if unset). Defaults to env[OS_SERVICE_TYPE].")
	f.StringVar(&a.g.endpointType, "os-endpoint-type", "", "Endpoint interface (public, internal or admin); wins over --os-interface. Defaults to env[OS_ENDPOINT_TYPE].")
	f.StringVar(&a.g.iface, "os-interface", "", "Endpoint interface: public, internal or admin. Defaults to env[OS_INTERFACE].")
	f.StringVar(&o.AuthType, "os-auth-type", "", "How to log in, e.g. password, token, v3applicationcredential or none; guessed from the credentials when unset. Defaults to env[OS_AUTH_TYPE].")
	f.StringVar(&o.AuthType, "os-auth-plugin", "", "Alias of --os-auth-type.")
	f.BoolVar(&o.Insecure, "insecure", false, "Skip checking the servers' TLS certificates (unsafe). Defaults to env[OS_INSECURE].")
	f.StringVar(&o.CACert, "os-cacert", "", "CA bundle file to verify the server's certificate. Defaults to env[OS_CACERT].")
	f.StringVar(&o.Cert, "os-cert", "", "Client certificate (PEM). Defaults to env[OS_CERT].")
	f.StringVar(&o.Key, "os-key", "", "Client certificate key (PEM). Defaults to env[OS_KEY].")
	f.Float64Var(&a.g.timeout, "timeout", 600, "Seconds the server may keep a request waiting: to connect, to answer, or in any pause of a transfer. A transfer that keeps moving is never cut off, and a request that timed out is not tried again.")
	f.BoolVar(&a.g.collectTiming, "collect-timing", false, "Accepted for compatibility; timings are not collected.")
	f.StringVar(&o.Cloud, "os-cloud", "", "Cloud name in clouds.yaml. Defaults to env[OS_CLOUD].")
	f.StringVar(&o.AuthURL, "os-auth-url", "", "Keystone URL to log in at. Defaults to env[OS_AUTH_URL].")
	f.StringVar(&o.IdentityAPIVersion, "os-identity-api-version", "", "Identity API version, 3 or 2.0. Defaults to env[OS_IDENTITY_API_VERSION].")
	f.StringVar(&a.g.systemScope, "os-system-scope", "", "Accepted for compatibility; system scope is not supported.")
	f.StringVar(&o.DomainID, "os-domain-id", "", "Log in scoped to the domain with this ID. Defaults to env[OS_DOMAIN_ID].")
	f.StringVar(&o.DomainName, "os-domain-name", "", "Log in scoped to the domain with this name. Defaults to env[OS_DOMAIN_NAME].")
	f.StringVar(&o.ProjectID, "os-project-id", "", "Log in scoped to the project with this ID. Defaults to env[OS_PROJECT_ID].")
	f.StringVar(&o.ProjectID, "os-tenant-id", "", "Alias of --os-project-id.")
	f.StringVar(&o.ProjectName, "os-project-name", "", "Log in scoped to the project with this name. Defaults to env[OS_PROJECT_NAME].")
	f.StringVar(&o.ProjectName, "os-tenant-name", "", "Alias of --os-project-name.")
	f.StringVar(&o.ProjectDomainID, "os-project-domain-id", "", "ID of the project's domain. Defaults to env[OS_PROJECT_DOMAIN_ID].")
	f.StringVar(&o.ProjectDomainName, "os-project-domain-name", "", "Name of the project's domain. Defaults to env[OS_PROJECT_DOMAIN_NAME].")
	f.StringVar(&a.g.trustID, "os-trust-id", "", "Accepted for compatibility; trusts are not supported.")
	f.StringVar(&o.DefaultDomainID, "os-default-domain-id", "", "Domain ID used for the user and the project when theirs is not given. Defaults to env[OS_DEFAULT_DOMAIN_ID].")
	f.StringVar(&o.DefaultDomainName, "os-default-domain-name", "", "Domain name used for the user and the project when theirs is not given. Defaults to env[OS_DEFAULT_DOMAIN_NAME].")
	f.StringVar(&o.UserID, "os-user-id", "", "ID of the user to log in as. Defaults to env[OS_USER_ID].")
	f.StringVar(&o.Username, "os-username", "", "Name of the user to log in as. Defaults to env[OS_USERNAME].")
	f.StringVar(&o.Username, "os-user-name", "", "Alias of --os-username.")
	f.StringVar(&o.UserDomainID, "os-user-domain-id", "", "ID of the user's domain. Defaults to env[OS_USER_DOMAIN_ID].")
	f.StringVar(&o.UserDomainName, "os-user-domain-name", "", "Name of the user's domain. Defaults to env[OS_USER_DOMAIN_NAME].")
	f.StringVar(&o.Password, "os-password", "", "Password to log in with; asked for on a terminal when missing. Defaults to env[OS_PASSWORD].")
	f.BoolVar(&a.g.noTokenCache, "no-token-cache", false, "Do not reuse or keep Keystone tokens between commands. Tokens are kept in ~/.cache/glance/tokens ($XDG_CACHE_HOME/glance/tokens); OS_TOKEN_CACHE=false also turns this off, and glance token-cache-clear empties it.")
	for _, alias := range []string{"os-auth-plugin", "os-tenant-id", "os-tenant-name", "os-user-name"} {
		f.MarkHidden(alias)
	}
}

// noArgs rejects positional arguments with a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("unrecognized arguments: %s", strings.Join(args, " "))
	}
	return nil
}

// addPrintFlags adds -f/--format and -c/--column to a printing command,
// and checks -f once its arguments are parsed, before it makes any request.
func addPrintFlags(c *cobra.Command, p *printOptions) {
	f := c.Flags()
	f.StringVarP(&p.Format, "format", "f", "table", "Output format: table, json, yaml or value.")
	f.StringArrayVarP(&p.Columns, "column", "c", nil, "Print only this column or field (repeatable).")
	c.PreRunE = func(*cobra.Command, []string) error { return p.checkFormat() }
}

// help prints a command's help in the layout of python-glanceclient.
func (a *app) help(cmd *cobra.Command, _ []string) {
	w := cmd.OutOrStdout()
	if !cmd.HasParent() {
		a.rootHelp(w, cmd)
		return
	}
	fmt.Fprintf(w, "usage: %s\n\n", strings.TrimSuffix(cmd.UseLine(), " [flags]"))
	desc := cmd.Long
	if desc == "" {
		desc = cmd.Short
	}
	fmt.Fprintln(w, desc)
	if s := a.specs[cmd]; s != nil && len(s.args) > 0 {
		fmt.Fprintf(w, "\nPositional arguments:\n%s", s.argsHelp())
	}
	if cmd.HasAvailableLocalFlags() {
		fmt.Fprintf(w, "\nOptions:\n%s", flagUsages(cmd.LocalFlags()))
	}
	fmt.Fprintln(w, "\nRun `glance help` for the global options.")
}

func (a *app) rootHelp(w io.Writer, root *cobra.Command) {
	fmt.Fprintf(w, "usage: glance [options] <subcommand> ...\n\n%s\n\nPositional arguments:\n  <subcommand>\n", root.Short)
	cmds := root.Commands()
	slices.SortFunc(cmds, func(x, y *cobra.Command) int { return strings.Compare(x.Name(), y.Name()) })
	for _, c := range cmds {
		if c.Hidden {
			continue
		}
		name := c.Name()
		if len(name) > 20 {
			fmt.Fprintf(w, "    %s\n    %-20s%s\n", name, "", c.Short)
		} else {
			fmt.Fprintf(w, "    %-20s%s\n", name, c.Short)
		}
	}
	fmt.Fprintf(w, "\nOptions:\n  %-22s%s\n%s\n%s\n", "--version", "Print the version of glance and exit.", flagUsages(root.PersistentFlags()), rootHelpFooter)
}

func (a *app) cmdHelp(root *cobra.Command) *cobra.Command {
	var words []string
	c := a.command(&cmdSpec{
		use:   "help [<subcommand>]",
		short: "Show help for glance or for one command.",
		args:  []posArg{{name: "<subcommand>", help: "Command to explain.", rest: &words, optional: true}},
		direct: func(cmd *cobra.Command) error {
			if len(words) == 0 {
				a.rootHelp(cmd.OutOrStdout(), root)
				a.v1HelpPointer(cmd.OutOrStdout(), "")
				return nil
			}
			target, rest, err := root.Find(words)
			if err != nil || target == root || len(rest) > 0 {
				return fmt.Errorf("'%s' is not a valid subcommand", strings.Join(words, " "))
			}
			a.help(target, nil)
			a.v1HelpPointer(cmd.OutOrStdout(), target.Name())
			return nil
		},
	})
	root.SetHelpCommand(c)
	return c
}

// flagUsages lists options the way argparse does: the option with a
// metavar in python-glanceclient's style, then its help on the next line
// when the first column is long.
func flagUsages(fs *pflag.FlagSet) string {
	var b strings.Builder
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		left := "--" + f.Name
		if f.Shorthand != "" {
			left = "-" + f.Shorthand + ", " + left
		}
		switch f.Value.Type() {
		case "bool":
		case "pybool":
			if f.NoOptDefVal != "" {
				left += " [[True|False]]"
			} else {
				left += " [True|False]"
			}
		case "nargs":
			meta := metavar(f)
			left += " " + meta + " [" + meta + " ...]"
		default:
			left += " " + metavar(f)
		}
		usage := f.Usage
		if def := f.DefValue; def != "" && def != "false" && def != "0" && def != "[]" && f.Value.Type() != "pybool" {
			usage += " (default " + def + ")"
		}
		if len(left) > 20 {
			fmt.Fprintf(&b, "  %s\n  %-22s%s\n", left, "", usage)
		} else {
			fmt.Fprintf(&b, "  %-22s%s\n", left, usage)
		}
	})
	return b.String()
}

// metavar is how an option's value is shown in help: its name in capitals
// unless setMetavar gave another.
func metavar(f *pflag.Flag) string {
	if m := f.Annotations["metavar"]; len(m) == 1 {
		return m[0]
	}
	return "<" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_")) + ">"
}

// setMetavar names the value of option name in help, as argparse's metavar.
func setMetavar(fs *pflag.FlagSet, name, meta string) {
	fs.SetAnnotation(name, "metavar", []string{meta})
}
