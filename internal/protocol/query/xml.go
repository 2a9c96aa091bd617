package query

import (
	"bytes"
	"encoding/xml"
	"reflect"
	"sort"

	"github.com/wharf-dev/wharf/internal/protocol/restxml/xmlshape"
)

func xmlEscape(buf *bytes.Buffer, s string) { _ = xml.EscapeText(buf, []byte(s)) }

// writeFields renders an error's extra members as elements inside <Error>, in name
// order so responses are stable.
func writeFields(buf *bytes.Buffer, fields map[string]any) {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	var o xmlshape.Options
	for _, k := range names {
		if fields[k] == nil {
			continue
		}
		o.WriteElement(buf, k, "", xmlshape.ElemField(reflect.TypeOf(fields[k])), reflect.ValueOf(fields[k]))
	}
}
