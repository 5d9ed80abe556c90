package deploy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// unit is a parsed systemd unit file: each section's settings, every
// value of a setting in order (ExecStart= and EnvironmentFile= repeat).
type unit struct {
	name     string // as on disk: atomic-promote.service, atomic-import@.service
	settings map[string]map[string][]string
}

// get is every value of section.key; an empty assignment clears the ones
// before it, as systemd reads it.
func (u *unit) get(section, key string) []string { return u.settings[section][key] }

func (u *unit) words(section, key string) []string {
	var out []string
	for _, v := range u.get(section, key) {
		out = append(out, strings.Fields(v)...)
	}
	return out
}

// parseUnit reads a unit file as systemd does: [Section] headers,
// Key=Value lines, comments starting with # or ;, and a trailing \
// continuing a line.
func parseUnit(name string, data []byte) (*unit, error) {
	u := &unit{name: name, settings: map[string]map[string][]string{}}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	var cont strings.Builder
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if cont.Len() > 0 {
			line = cont.String() + " " + line
			cont.Reset()
		}
		if strings.HasSuffix(line, `\`) {
			cont.WriteString(strings.TrimSuffix(line, `\`))
			continue
		}
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[' && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			if u.settings[section] == nil {
				u.settings[section] = map[string][]string{}
			}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				return nil, fmt.Errorf("%s:%d: not a setting: %q", name, n, line)
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if v == "" {
				delete(u.settings[section], k)
				continue
			}
			u.settings[section][k] = append(u.settings[section][k], v)
		}
	}
	return u, sc.Err()
}

// loadUnits reads every unit under dir, with rewrite applied to its text
// (where the host keeps what the units name).
func loadUnits(t *testing.T, dir string, rewrite func(string) string) map[string]*unit {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	units := map[string]*unit{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".service") && !strings.HasSuffix(e.Name(), ".timer") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		u, err := parseUnit(e.Name(), []byte(rewrite(string(data))))
		if err != nil {
			t.Fatal(err)
		}
		units[e.Name()] = u
	}
	return units
}

// readEnvFile reads a systemd EnvironmentFile: KEY=VALUE lines, comments,
// no shell.
func readEnvFile(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: not KEY=VALUE: %q", path, i+1, line)
		}
		env[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return env, nil
}

// host runs the units as systemd would on one machine, on a simulated
// clock: a unit starts the units it Requires= first, in After= order, and
// a unit whose requirement failed does not start. Each Exec line runs with
// the unit's environment and specifiers expanded; sitegen commands that
// judge time get --now, the host's clock.
type host struct {
	t     *testing.T
	units map[string]*unit
	env   []string // the process environment every unit starts from
	now   time.Time
	// nowFlag lists the sitegen commands that take --now.
	nowFlag map[string]bool
	// ran is every unit started, with its outcome: "ok", "failed",
	// "dependency".
	ran []string
	// exits are the exit codes of each Exec line, by unit.
	exits map[string][]int
}

func newHost(t *testing.T, units map[string]*unit, env []string) *host {
	return &host{t: t, units: units, env: env, exits: map[string][]int{},
		nowFlag: map[string]bool{"build": true, "verify": true, "promote": true, "refs": true, "announce": true,
			"check": true, "revoke": true}}
}

// lookup finds a unit by its full name, a template's instance included.
func (h *host) lookup(name string) (*unit, string) {
	if u, ok := h.units[name]; ok {
		return u, ""
	}
	if at := strings.Index(name, "@"); at >= 0 {
		dot := strings.LastIndex(name, ".")
		if u, ok := h.units[name[:at+1]+name[dot:]]; ok {
			return u, name[at+1 : dot]
		}
	}
	return nil, ""
}

// start starts a unit as systemctl start does, and reports whether it
// succeeded.
func (h *host) start(name string) bool {
	h.t.Helper()
	// The transaction: the unit and everything it requires, in After=
	// order (a depth-first walk of Requires= gives it for a chain).
	var order []string
	seen := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		u, _ := h.lookup(n)
		if u == nil {
			h.t.Fatalf("no unit %s", n)
		}
		reqs := u.words("Unit", "Requires")
		for _, r := range reqs {
			if !slices.Contains(u.words("Unit", "After"), r) {
				h.t.Fatalf("%s: Requires=%s without After=%s: systemd would start both at once", n, r, r)
			}
			visit(r)
		}
		order = append(order, n)
	}
	visit(name)
	failed := map[string]bool{}
	for _, n := range order {
		u, _ := h.lookup(n)
		dep := false
		for _, r := range u.words("Unit", "Requires") {
			dep = dep || failed[r]
		}
		if dep {
			failed[n] = true
			h.ran = append(h.ran, n+" dependency")
			continue
		}
		if !h.run(n) {
			failed[n] = true
		}
	}
	return !failed[name]
}

// run runs one unit's Exec lines; a failure runs its OnFailure= units.
func (h *host) run(name string) bool {
	h.t.Helper()
	u, inst := h.lookup(name)
	spec := strings.NewReplacer("%i", inst, "%I", inst, "%n", name, "%N", strings.TrimSuffix(name, filepath.Ext(name)), "%%", "%")
	env := map[string]string{}
	for _, f := range u.get("Service", "EnvironmentFile") {
		f = spec.Replace(f)
		optional := strings.HasPrefix(f, "-")
		vars, err := readEnvFile(strings.TrimPrefix(f, "-"))
		if errors.Is(err, os.ErrNotExist) && optional {
			continue
		}
		if err != nil {
			h.t.Fatalf("%s: EnvironmentFile: %v", name, err)
		}
		for k, v := range vars {
			env[k] = v
		}
	}
	for _, e := range u.get("Service", "Environment") {
		k, v, _ := strings.Cut(spec.Replace(e), "=")
		env[k] = v
	}
	success := map[int]bool{0: true}
	for _, c := range u.words("Service", "SuccessExitStatus") {
		n, err := strconv.Atoi(c)
		if err != nil {
			h.t.Fatalf("%s: SuccessExitStatus=%s", name, c)
		}
		success[n] = true
	}
	ok := true
	for _, key := range []string{"ExecStartPre", "ExecStart", "ExecStartPost"} {
		for _, line := range u.get("Service", key) {
			if !ok {
				break
			}
			args := h.expand(name, spec.Replace(line), env)
			code := h.exec(name, args, env)
			h.exits[name] = append(h.exits[name], code)
			ok = success[code]
		}
	}
	outcome := "ok"
	if !ok {
		outcome = "failed"
		for _, f := range u.words("Unit", "OnFailure") {
			h.run(spec.Replace(f))
		}
	}
	h.ran = append(h.ran, name+" "+outcome)
	return ok
}

var varRE = regexp.MustCompile(`\$\{(\w+)\}|\$(\w+)`)

// expand splits an Exec line into arguments as systemd does: words, with
// double quotes; ${VAR} as a word of its own is exactly one argument (an
// empty one for an empty value), $VAR splits into words.
func (h *host) expand(name, line string, env map[string]string) []string {
	h.t.Helper()
	var args []string
	for _, w := range splitQuoted(line) {
		if m := varRE.FindStringSubmatch(w); m != nil && m[0] == w && m[2] != "" {
			args = append(args, strings.Fields(env[m[2]])...)
			continue
		}
		args = append(args, varRE.ReplaceAllStringFunc(w, func(v string) string {
			m := varRE.FindStringSubmatch(v)
			k := m[1] + m[2]
			if _, ok := env[k]; !ok {
				h.t.Fatalf("%s: %s is not set in its environment", name, k)
			}
			return env[k]
		}))
	}
	return args
}

func splitQuoted(s string) []string {
	var out []string
	var cur strings.Builder
	inQuote, any := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQuote, any = !inQuote, true
		case (r == ' ' || r == '\t') && !inQuote:
			if any {
				out = append(out, cur.String())
			}
			cur.Reset()
			any = false
		default:
			cur.WriteRune(r)
			any = true
		}
	}
	if any {
		out = append(out, cur.String())
	}
	return out
}

// exec runs one command of a unit and returns its exit code; its output
// goes to the test log, as to the journal.
func (h *host) exec(name string, args []string, env map[string]string) int {
	h.t.Helper()
	if filepath.Base(args[0]) == "sitegen" && len(args) > 1 && h.nowFlag[args[1]] {
		args = append(args, "--now", h.now.Format(time.RFC3339))
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = slices.Clone(h.env)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		h.t.Fatalf("%s: %s: %v", name, args[0], err)
	}
	h.t.Logf("%s %s: %s → exit %d\n%s", h.now.Format("2006-01-02 15:04"), name, strings.Join(args, " "), code, out)
	return code
}

// TestUnitParser checks the reading of unit files and Exec lines the
// pipeline test depends on.
func TestUnitParser(t *testing.T) {
	u, err := parseUnit("x.service", []byte("[Unit]\nRequires=a.service b.service\n# c\n[Service]\nExecStart=/bin/echo one \\\n  two\nExecStart=/bin/true\nEnvironment=A=1\nEnvironment=\nEnvironment=B=2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := u.get("Service", "ExecStart"); !slices.Equal(got, []string{"/bin/echo one  two", "/bin/true"}) {
		t.Errorf("ExecStart = %q", got)
	}
	if got := u.get("Service", "Environment"); !slices.Equal(got, []string{"B=2"}) {
		t.Errorf("Environment after an empty assignment = %q", got)
	}
	if got := u.words("Unit", "Requires"); !slices.Equal(got, []string{"a.service", "b.service"}) {
		t.Errorf("Requires = %q", got)
	}
	h := newHost(t, nil, nil)
	env := map[string]string{"EMPTY": "", "TWO": "a b", "P": "/srv"}
	got := h.expand("x", `cmd --flag ${EMPTY} $TWO ${P}/x "q r"`, env)
	if want := []string{"cmd", "--flag", "", "a", "b", "/srv/x", "q r"}; !slices.Equal(got, want) {
		t.Errorf("expand = %q, want %q", got, want)
	}
}
