// Runs Go's text/template with docker's functions over JSON lines {T: template, D: data} and prints
// {out} or {err} per line: the reference the Go conformance test compares brig's templates with.
// Whole numbers become int, as in docker's typed structs.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/template"
)

func fix(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		for k, e := range t {
			t[k] = fix(e)
		}
		return t
	case []interface{}:
		for i, e := range t {
			t[i] = fix(e)
		}
		return t
	case float64:
		if t == float64(int64(t)) {
			return int(t)
		}
	}
	return v
}

var funcs = template.FuncMap{
	"json": func(v interface{}) string {
		buf := &bytes.Buffer{}
		enc := json.NewEncoder(buf)
		enc.SetEscapeHTML(false)
		enc.Encode(v)
		return strings.TrimSpace(buf.String())
	},
	"split": strings.Split,
	"join":  strings.Join,
	"title": strings.Title,
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"pad": func(s string, p, q int) string {
		if s == "" {
			return s
		}
		return strings.Repeat(" ", p) + s + strings.Repeat(" ", q)
	},
	"truncate": func(s string, n int) string {
		if len(s) < n {
			return s
		}
		return s[:n]
	},
}

func main() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var c struct {
			T string
			D json.RawMessage
		}
		json.Unmarshal(sc.Bytes(), &c)
		var d interface{}
		json.Unmarshal(c.D, &d)
		d = fix(d)
		out := map[string]string{}
		t, err := template.New("").Funcs(funcs).Parse(c.T)
		if err != nil {
			out["err"] = err.Error()
		} else {
			var b bytes.Buffer
			if err := t.Execute(&b, d); err != nil {
				out["err"] = err.Error()
			} else {
				out["out"] = b.String()
			}
		}
		j, _ := json.Marshal(out)
		fmt.Println(string(j))
	}
}
