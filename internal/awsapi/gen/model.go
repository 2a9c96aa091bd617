package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
)

// model is the part of a botocore service-2.json the generator reads.
type model struct {
	Metadata   metadata              `json:"metadata"`
	Operations map[string]*operation `json:"operations"`
	Shapes     map[string]*shape     `json:"shapes"`
}

type metadata struct {
	APIVersion         string          `json:"apiVersion"`
	EndpointPrefix     string          `json:"endpointPrefix"`
	JSONVersion        string          `json:"jsonVersion"`
	Protocol           string          `json:"protocol"`
	Protocols          []string        `json:"protocols"`
	ServiceFullName    string          `json:"serviceFullName"`
	ServiceID          string          `json:"serviceId"`
	SigningName        string          `json:"signingName"`
	TargetPrefix       string          `json:"targetPrefix"`
	XMLNamespace       string          `json:"xmlNamespace"`
	AWSQueryCompatible json.RawMessage `json:"awsQueryCompatible"`
}

type operation struct {
	Name string `json:"name"`
	HTTP struct {
		Method       string `json:"method"`
		RequestURI   string `json:"requestUri"`
		ResponseCode int    `json:"responseCode"`
	} `json:"http"`
	Input  *opRef      `json:"input"`
	Output *opRef      `json:"output"`
	Errors []*shapeRef `json:"errors"`
}

// opRef is an operation's input or output: a shape reference that may also name
// the element wrapping it (query resultWrapper, rest-xml locationName).
type opRef struct {
	Shape         string        `json:"shape"`
	ResultWrapper string        `json:"resultWrapper"`
	LocationName  string        `json:"locationName"`
	XMLNamespace  *xmlNamespace `json:"xmlNamespace"`
}

type xmlNamespace struct {
	URI    string `json:"uri"`
	Prefix string `json:"prefix"`
}

// shapeRef is a reference to a shape with the traits a member may add.
type shapeRef struct {
	Shape            string        `json:"shape"`
	Location         string        `json:"location"`
	LocationName     string        `json:"locationName"`
	JSONName         string        `json:"jsonName"`
	QueryName        string        `json:"queryName"`
	TimestampFormat  string        `json:"timestampFormat"`
	Flattened        bool          `json:"flattened"`
	XMLAttribute     bool          `json:"xmlAttribute"`
	XMLNamespace     *xmlNamespace `json:"xmlNamespace"`
	JSONValue        bool          `json:"jsonvalue"`
	Streaming        bool          `json:"streaming"`
	IdempotencyToken bool          `json:"idempotencyToken"`
	HostLabel        bool          `json:"hostLabel"`
}

type shape struct {
	Type            string               `json:"type"`
	Members         map[string]*shapeRef `json:"members"`
	Required        []string             `json:"required"`
	Member          *shapeRef            `json:"member"`
	Key             *shapeRef            `json:"key"`
	Value           *shapeRef            `json:"value"`
	Payload         string               `json:"payload"`
	LocationName    string               `json:"locationName"`
	XMLNamespace    *xmlNamespace        `json:"xmlNamespace"`
	TimestampFormat string               `json:"timestampFormat"`
	Flattened       bool                 `json:"flattened"`
	Streaming       bool                 `json:"streaming"`
	JSONValue       bool                 `json:"jsonvalue"`
	Document        bool                 `json:"document"`
	Exception       bool                 `json:"exception"`
	Fault           bool                 `json:"fault"`
	Error           *struct {
		Code           string `json:"code"`
		HTTPStatusCode int    `json:"httpStatusCode"`
		SenderFault    *bool  `json:"senderFault"`
	} `json:"error"`
	Documentation string   `json:"documentation"`
	XMLOrder      []string `json:"xmlOrder"`

	order []string // member names in model order
}

// memberNames returns the shape's member names in model order. Go maps lose the
// order of the JSON object, and the order matters: rest-xml and query encode members
// in model order, so the struct fields follow it.
func (s *shape) memberNames() []string { return s.order }

//go:embed overlays/*.json
var overlays embed.FS

// loadModel reads a gzipped service-2.json, merges the service's overlay (if any),
// and returns the model with each structure's member order.
func loadModel(path, id string) (*model, []byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	js, err := io.ReadAll(zr)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	var tree map[string]any
	if err := json.Unmarshal(js, &tree); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	ov, err := overlays.ReadFile("overlays/" + id + ".json")
	if err == nil {
		var patch map[string]any
		if err := json.Unmarshal(ov, &patch); err != nil {
			return nil, nil, fmt.Errorf("overlay %s: %w", id, err)
		}
		delete(patch, "_comment")
		if err := merge(tree, patch, id); err != nil {
			return nil, nil, err
		}
	} else {
		ov = nil
	}
	merged, err := json.Marshal(tree)
	if err != nil {
		return nil, nil, err
	}
	var m model
	if err := json.Unmarshal(merged, &m); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	order, err := memberOrder(js)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	for name, s := range m.Shapes {
		s.order = order[name]
		// xmlOrder, where present, is the order XML encoders must follow
		// (CloudWatch's MetricAlarm); struct fields follow it too.
		if sameSet(s.XMLOrder, s.order) {
			s.order = s.XMLOrder
		}
		if len(s.order) != len(s.Members) {
			return nil, nil, fmt.Errorf("%s: shape %s: member order mismatch", path, name)
		}
	}
	return &m, ov, nil
}

// merge copies patch into tree. Objects merge key by key; any other value replaces.
// A patch object naming an operation or shape the model lacks is an error, so an
// overlay that has gone stale with a new model is noticed.
func merge(tree, patch map[string]any, where string) error {
	keys := make([]string, 0, len(patch))
	for k := range patch {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		pv := patch[k]
		pm, isMap := pv.(map[string]any)
		tv, exists := tree[k]
		tm, treeIsMap := tv.(map[string]any)
		switch {
		case isMap && treeIsMap:
			if err := merge(tm, pm, where+"."+k); err != nil {
				return err
			}
		case isMap && !exists && isContainer(where):
			return fmt.Errorf("overlay %s.%s: not in the model", where, k)
		default:
			tree[k] = pv
		}
	}
	return nil
}

// isContainer reports whether where names the shapes or operations object (or a
// structure's members), whose keys must already exist in the model.
func isContainer(where string) bool {
	base := filepath.Ext(where)
	return base == ".shapes" || base == ".operations" || base == ".members"
}

// memberOrder returns, for each shape, its member names in the order of the JSON.
func memberOrder(js []byte) (map[string][]string, error) {
	var doc struct {
		Shapes map[string]struct {
			Members orderedKeys `json:"members"`
		} `json:"shapes"`
	}
	if err := json.Unmarshal(js, &doc); err != nil {
		return nil, err
	}
	out := make(map[string][]string, len(doc.Shapes))
	for n, s := range doc.Shapes {
		out[n] = s.Members
	}
	return out, nil
}

// orderedKeys decodes a JSON object into its keys, in order.
type orderedKeys []string

func (o *orderedKeys) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("members: want object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		*o = append(*o, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	return nil
}

// sha256Hex returns the hex SHA-256 of b.
func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// sameSet reports whether a and b hold the same names.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := make(map[string]bool, len(a))
	for _, n := range a {
		seen[n] = true
	}
	for _, n := range b {
		if !seen[n] {
			return false
		}
	}
	return true
}
