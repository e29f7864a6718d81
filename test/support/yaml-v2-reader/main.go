// The real reader for derivc's tests: decodes YAML exactly as yip does (gopkg.in/yaml.v2,
// yaml.Unmarshal into interface{}, first document only) and renders strings with Go's
// text/template the way yip's templateSysData does. Built from Debian's packages
// (golang-go, golang-gopkg-yaml.v2-dev) by test/support/yaml-v2.ts; never shipped.
//
// Input on stdin, JSON: {"docs": ["<base64 bytes>", ...], "templates": ["<text>", ...]}.
// Output on stdout, JSON: {"docs": [{"value": V} | {"error": "..."}],
// "templates": [{"rendered": "..."} | {"error": "...", "rendered": "<the input>"}]}.
//
// V keeps go-yaml's types: strings, booleans, null, lists and string-keyed maps are plain
// JSON; what JSON cannot say is a one-key object whose key starts with "!":
// {"!int": "420"}, {"!float": "+Inf"}, {"!timestamp": "..."}, and {"!map": [[k, v], ...]}
// for a map with a key that is not a string or that starts with "!" (so a plain JSON object
// never has a "!" key and the encoding is unambiguous).
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"gopkg.in/yaml.v2"
)

type request struct {
	Docs      []string `json:"docs"`
	Templates []string `json:"templates"`
}

type docResult struct {
	Value interface{} `json:"value"`
	Error *string     `json:"error,omitempty"`
}

type templateResult struct {
	Rendered string  `json:"rendered"`
	Error    *string `json:"error,omitempty"`
}

type response struct {
	Docs      []docResult      `json:"docs"`
	Templates []templateResult `json:"templates"`
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, "yaml-v2-reader: bad request:", err)
		os.Exit(2)
	}
	res := response{Docs: []docResult{}, Templates: []templateResult{}}
	for _, b64 := range req.Docs {
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "yaml-v2-reader: bad base64:", err)
			os.Exit(2)
		}
		res.Docs = append(res.Docs, decode(raw))
	}
	for _, t := range req.Templates {
		res.Templates = append(res.Templates, render(t))
	}
	out := json.NewEncoder(os.Stdout)
	out.SetEscapeHTML(false)
	if err := out.Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, "yaml-v2-reader: cannot encode the result:", err)
		os.Exit(2)
	}
}

// decode is yip's loader (pkg/schema/loader_yip.go up to v1.20: yaml.Unmarshal), into
// interface{} so that every type go-yaml chose stays visible.
func decode(raw []byte) (r docResult) {
	defer func() {
		// go-yaml v2 panics on some inputs; yip would crash or drop the file: an error either way.
		if p := recover(); p != nil {
			msg := fmt.Sprint("panic: ", p)
			r = docResult{Error: &msg}
		}
	}()
	var v interface{}
	if err := yaml.Unmarshal(raw, &v); err != nil {
		msg := err.Error()
		return docResult{Error: &msg}
	}
	return docResult{Value: tagged(v)}
}

func tagged(v interface{}) interface{} {
	switch x := v.(type) {
	case nil, bool, string:
		return x
	case int:
		return map[string]string{"!int": strconv.Itoa(x)}
	case int64:
		return map[string]string{"!int": strconv.FormatInt(x, 10)}
	case uint64:
		return map[string]string{"!int": strconv.FormatUint(x, 10)}
	case *big.Int:
		return map[string]string{"!int": x.String()}
	case float64:
		return map[string]string{"!float": strconv.FormatFloat(x, 'g', -1, 64)}
	case time.Time:
		return map[string]string{"!timestamp": x.Format(time.RFC3339Nano)}
	case []byte:
		return string(x)
	case []interface{}:
		out := make([]interface{}, len(x))
		for i, item := range x {
			out[i] = tagged(item)
		}
		return out
	case map[interface{}]interface{}:
		plain := map[string]interface{}{}
		for k, item := range x {
			s, ok := k.(string)
			if !ok || strings.HasPrefix(s, "!") {
				return taggedMap(x)
			}
			plain[s] = tagged(item)
		}
		return plain
	default:
		return map[string]string{"!unknown": fmt.Sprintf("%T %v", x, x)}
	}
}

// taggedMap lists the entries in a stable order (go-yaml's map has none): by the JSON of the key.
func taggedMap(m map[interface{}]interface{}) interface{} {
	type entry struct {
		key  string
		pair []interface{}
	}
	entries := []entry{}
	for k, item := range m {
		tk := tagged(k)
		j, _ := json.Marshal(tk)
		entries = append(entries, entry{string(j), []interface{}{tk, tagged(item)}})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].key < entries[j].key })
	pairs := make([]interface{}, len(entries))
	for i, e := range entries {
		pairs[i] = e.pair
	}
	return map[string]interface{}{"!map": pairs}
}

// render is yip's utils.TemplatedString as templateSysData calls it (pkg/utils/text.go,
// pkg/plugins/common.go): template.New("template").Parse, Execute with {"Values": …}. yip adds
// sprig's functions; this reader does not, so an action that calls one is reported as an
// error here, and a test that requires "rendered without error" is stricter than yip. On an
// error yip keeps the input as it was, and so does `rendered` here.
func render(t string) templateResult {
	tmpl, err := template.New("template").Parse(t)
	if err == nil {
		var b bytes.Buffer
		values := map[string]interface{}{"Random": "RANDOM", "ProtectedID": "PROTECTEDID"}
		if err = tmpl.Execute(&b, map[string]interface{}{"Values": values}); err == nil {
			return templateResult{Rendered: b.String()}
		}
	}
	msg := err.Error()
	return templateResult{Rendered: t, Error: &msg}
}
