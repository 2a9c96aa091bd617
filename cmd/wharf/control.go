package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// endpointFlag adds --endpoint to fs: the running wharf a control command
// talks to, from WHARF_ENDPOINT, else AWS_ENDPOINT_URL, else wharf's default
// port on this machine.
func endpointFlag(fs *flag.FlagSet, getenv func(string) string) *string {
	def := "http://127.0.0.1:4566"
	for _, name := range []string{"WHARF_ENDPOINT", "AWS_ENDPOINT_URL"} {
		if v := getenv(name); v != "" {
			def = v
			break
		}
	}
	return fs.String("endpoint", def, "the running wharf's URL (env WHARF_ENDPOINT, else AWS_ENDPOINT_URL)")
}

// resetCmd runs `wharf reset [--service NAME]`: a running wharf stops its
// tasks and empties every service (or one), without a restart.
func resetCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wharf reset", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := endpointFlag(fs, getenv)
	service := fs.String("service", "", "empty only this service (s3, sqs, sns, events, scheduler, ecs, dynamodb, ...)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "wharf reset: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	path := "/_wharf/reset"
	if *service != "" {
		path += "?service=" + url.QueryEscape(*service)
	}
	var res struct {
		Services      []string `json:"services"`
		Keys          int      `json:"keys"`
		TasksStopped  int      `json:"tasksStopped"`
		InitHooks     []string `json:"initHooks"`
		InitHookError string   `json:"initHookError"`
	}
	if err := call(*endpoint, http.MethodPost, path, nil, &res); err != nil {
		fmt.Fprintln(stderr, "wharf reset:", err)
		return 1
	}
	fmt.Fprintf(stdout, "reset %s: %d records deleted, %d tasks stopped\n", strings.Join(res.Services, ", "), res.Keys, res.TasksStopped)
	if len(res.InitHooks) > 0 {
		fmt.Fprintf(stdout, "init hooks ran again: %s\n", strings.Join(res.InitHooks, ", "))
	}
	if res.InitHookError != "" {
		fmt.Fprintf(stderr, "wharf reset: init hook failed: %s\n", res.InitHookError)
		return 1
	}
	return 0
}

// clockCmd runs `wharf clock`, `wharf clock advance 1h` and
// `wharf clock set 2026-12-07T00:00:00Z` against a running wharf.
func clockCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wharf clock", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := endpointFlag(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var body any
	switch {
	case fs.NArg() == 0:
	case fs.NArg() == 2 && (fs.Arg(0) == "advance" || fs.Arg(0) == "set"):
		body = map[string]string{fs.Arg(0): fs.Arg(1)}
	default:
		fmt.Fprintln(stderr, "usage: wharf clock [advance DURATION | set RFC3339-TIME] [--endpoint URL]")
		return 2
	}
	method := http.MethodGet
	if body != nil {
		method = http.MethodPost
	}
	var st struct {
		Now    time.Time `json:"now"`
		Offset string    `json:"offset"`
	}
	if err := call(*endpoint, method, "/_wharf/clock", body, &st); err != nil {
		fmt.Fprintln(stderr, "wharf clock:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s (%s ahead of real time)\n", st.Now.Format(time.RFC3339), st.Offset)
	return 0
}

// call sends a control request to wharf and decodes its JSON answer into
// out; an answer other than 200 is an error carrying wharf's message.
func call(endpoint, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, strings.TrimSuffix(endpoint, "/")+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Timeout: 2 * time.Minute} // a reset waits for tasks to stop
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("is wharf running at %s? %w", endpoint, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s (HTTP %d)", e.Error, resp.StatusCode)
		}
		return fmt.Errorf("HTTP %d from %s", resp.StatusCode, endpoint)
	}
	return json.Unmarshal(b, out)
}
