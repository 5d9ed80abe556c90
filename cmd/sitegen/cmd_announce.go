package main

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/projectatomic/atomic-site/internal/announce"
	"github.com/projectatomic/atomic-site/internal/atomicfile"
	"github.com/projectatomic/atomic-site/internal/cli"
	"github.com/projectatomic/atomic-site/internal/release"
	"github.com/projectatomic/atomic-site/internal/view"
)

func newAnnounceCommand() *cobra.Command {
	var opts stateOptions
	var stream, rel, from, to, outbox, sendmail string
	cmd := &cobra.Command{
		Use:   "announce --stream S [--release R] --manifests DIR --keys DIR",
		Short: "Print a release announcement as an email (text and HTML) on stdout",
		Long: `Print the announcement of a build (by default the stream's current one) as
an RFC 5322 multipart/alternative email on stdout: title, date, notes,
downloads with sizes and checksums, how to verify them, and any
revocation. Pipe it to sendmail -t, or to the list's archive.

With --sendmail PATH, the message goes to PATH -t -oi instead (sendmail's
own interface, which every MTA offers). With --outbox DIR, each message
sent is kept as DIR/<stream>/<release>.eml, and a build whose message is
there already is not announced again: a daily unit announces each release
once.`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cli.Required(cmd, "stream"); err != nil {
				return err
			}
			h, err := opts.load(cmd.Context(), cmd)
			if err != nil {
				return err
			}
			state, cfg := h.State, h.Config
			st := state.Stream(stream)
			if st == nil {
				return fmt.Errorf("no stream %q in the manifests", stream)
			}
			b, err := pick(st, rel)
			if err != nil {
				return err
			}
			if from == "" {
				from = cfg.AnnounceFrom
			}
			if to == "" {
				to = cfg.AnnounceTo
			}
			for flag, addr := range map[string]string{"from": from, "to": to} {
				if _, err := mail.ParseAddress(addr); err != nil {
					return cli.Usagef("--%s %q: %v", flag, addr, err)
				}
			}
			sv, err := view.NewStream(st, cfg)
			if err != nil {
				return err
			}
			bv, err := view.NewBuild(st, b, cfg)
			if err != nil {
				return err
			}
			kept := ""
			if outbox != "" {
				kept = filepath.Join(outbox, st.Name, b.Release+".eml")
				if _, err := os.Stat(kept); err == nil {
					fmt.Fprintf(cmd.OutOrStdout(), "already announced: %s\n", kept)
					return nil
				}
			}
			msg, err := announce.Message(sv, bv, cfg, announce.Options{From: from, To: to, Date: state.Now})
			if err != nil {
				return err
			}
			if sendmail == "" {
				_, err = cmd.OutOrStdout().Write(msg)
			} else {
				err = send(cmd.Context(), sendmail, msg)
			}
			if err != nil || kept == "" {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(kept), 0o755); err != nil {
				return err
			}
			if err := atomicfile.Write(kept, msg, 0o644); err != nil {
				return err
			}
			if sendmail != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "announced %s/%s to %s: %s\n", st.Name, b.Release, to, kept)
			}
			return nil
		},
	}
	opts.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&stream, "stream", "", "stream of the build")
	f.StringVar(&rel, "release", "", "the build to announce (default: the stream's current build)")
	f.StringVar(&from, "from", "", "sender (default: announce-from in the config)")
	f.StringVar(&to, "to", "", "recipient (default: announce-to in the config)")
	f.StringVar(&outbox, "outbox", "", "keep each announcement here, and announce a build only once")
	f.StringVar(&sendmail, "sendmail", "", "send the message with this sendmail program (PATH -t -oi) instead of printing it")
	return cmd
}

// send hands msg to a sendmail program, which reads the recipients from
// its headers.
func send(ctx context.Context, sendmail string, msg []byte) error {
	c := exec.CommandContext(ctx, sendmail, "-t", "-oi")
	c.Stdin = bytes.NewReader(msg)
	out, err := c.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s -t -oi: %w: %s", sendmail, err, strings.TrimSpace(string(out)))
	}
	return nil
}

func pick(st *release.Stream, rel string) (*release.Build, error) {
	if rel == "" {
		if st.Current == nil {
			return nil, fmt.Errorf("stream %s has no current build to announce; name one with --release", st.Name)
		}
		return st.Current, nil
	}
	for _, b := range st.Builds {
		if b.Release == rel {
			if b.Failed() {
				return nil, fmt.Errorf("build %s/%s failed its tests: there is no release to announce", st.Name, rel)
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("no build %s/%s in the manifests", st.Name, rel)
}
