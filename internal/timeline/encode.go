package timeline

import (
	"time"

	"github.com/wharf-dev/wharf/internal/jsonstring"
)

// appendJSON appends e as the JSON object encoding/json makes of it, byte
// for byte with HTML escaping off (the same members, names and omitempty
// rules; Open reads it back with encoding/json). Saving every hop went
// through reflection before, a visible share of what a durable SQS message
// cost.
func appendJSON(b []byte, e *Entry) []byte {
	b = append(b, `{"id":`...)
	b = jsonstring.Append(b, e.ID)
	return appendAfterID(append(b, ','), e)
}

// appendAfterID appends what follows the id in e's JSON object, from the
// time's member to the closing brace: Record encodes it before it takes the
// lock that numbers the entry.
func appendAfterID(b []byte, e *Entry) []byte {
	b = append(b, `"time":"`...)
	b = e.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","service":`...)
	b = jsonstring.Append(b, e.Service)
	b = append(b, `,"kind":`...)
	b = jsonstring.Append(b, e.Kind)
	for _, f := range [...]struct{ name, v string }{
		{`,"resource":`, e.Resource}, {`,"subject":`, e.Subject}, {`,"cause":`, e.Cause},
		{`,"outcome":`, e.Outcome}, {`,"error":`, e.Error}, {`,"detail":`, e.Detail},
	} {
		if f.v != "" {
			b = append(b, f.name...)
			b = jsonstring.Append(b, f.v)
		}
	}
	if e.Quiet {
		b = append(b, `,"quiet":true`...)
	}
	return append(b, '}')
}
