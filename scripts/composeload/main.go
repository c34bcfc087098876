// composeload: loads docker-compose.yml with compose-go (the loader docker compose uses) and prints
// the enabled services as JSON. Usage: composeload [-f docker-compose.yml] [-profiles observability,...]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	file := flag.String("f", "docker-compose.yml", "compose file")
	profiles := flag.String("profiles", "", "comma-separated profiles to enable")
	flag.Parse()
	var active []string
	if *profiles != "" {
		active = strings.Split(*profiles, ",")
	}
	opts, err := cli.NewProjectOptions([]string{*file},
		cli.WithOsEnv,      // OS env first: it wins over .env, as in docker compose
		cli.WithEnvFiles(), // default: .env beside the compose file, when present
		cli.WithDotEnv,
		cli.WithProfiles(active),
	)
	if err != nil {
		fail(err)
	}
	project, err := opts.LoadProject(context.Background()) // interpolation, merge, schema, profiles
	if err != nil {
		fail(err)
	}
	out, _ := json.Marshal(map[string]any{"name": project.Name, "services": project.ServiceNames()})
	fmt.Println(string(out))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "compose:", err)
	os.Exit(1)
}
