package dynamodb

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	ddb "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	"github.com/wharf-dev/wharf/internal/lazyregexp"
	"github.com/wharf-dev/wharf/internal/store"
)

// nameChars reports whether n matches the model's pattern for table and
// index names, [a-zA-Z0-9_.-]+, checked byte by byte: every item request
// checks its table's name, and the regular expression cost more than the
// rest of the check.
func nameChars(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// checkIndexName applies IndexName's constraints from the model: 3 to 255
// characters of [a-zA-Z0-9_.-].
func checkIndexName(n string) error {
	switch {
	case len(n) < 3:
		return apierr.Validation("1 validation error detected: Value '%s' at 'indexName' failed to satisfy constraint: Member must have length greater than or equal to 3", n)
	case len(n) > 255:
		return apierr.Validation("1 validation error detected: Value '%s' at 'indexName' failed to satisfy constraint: Member must have length less than or equal to 255", n)
	case !nameChars(n):
		return apierr.Validation("1 validation error detected: Value '%s' at 'indexName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", n)
	}
	return nil
}

func checkTableName(name *string) error {
	if name == nil {
		return apierr.Validation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
	}
	n := *name
	switch {
	case len(n) < 3:
		return apierr.Validation("1 validation error detected: Value '%s' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3", n)
	case len(n) > 255:
		return apierr.Validation("1 validation error detected: Value '%s' at 'tableName' failed to satisfy constraint: Member must have length less than or equal to 255", n)
	case !nameChars(n):
		return apierr.Validation("1 validation error detected: Value '%s' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", n)
	}
	return nil
}

// keyAttrNames gathers the key attribute names of a CreateTable or
// UpdateTable request with where they were given, so that their length is
// checked first, as the model's constraint (1 to 255 bytes) is, before any
// check of how they fit together.
type keyAttrNames []struct{ where, name string }

func (k *keyAttrNames) defs(where string, defs []ddb.AttributeDefinition) {
	for i, d := range defs {
		*k = append(*k, struct{ where, name string }{fmt.Sprintf("%s.%d.member.attributeName", where, i+1), awsapi.ToString(d.AttributeName)})
	}
}

func (k *keyAttrNames) schema(where string, ks []ddb.KeySchemaElement) {
	for i, e := range ks {
		*k = append(*k, struct{ where, name string }{fmt.Sprintf("%s.%d.member.attributeName", where, i+1), awsapi.ToString(e.AttributeName)})
	}
}

func (k keyAttrNames) check() error {
	var errs []string
	for _, n := range k {
		if len(n.name) > 255 {
			errs = append(errs, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to 255", n.name, n.where))
		}
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return apierr.Validation("1 validation error detected: %s", errs[0])
	}
	return apierr.Validation("%d validation errors detected: %s", len(errs), strings.Join(errs, "; "))
}

// keySchema reads a key schema: HASH first, then an optional RANGE.
func keySchema(ks []ddb.KeySchemaElement, what string) (hash, rng string, err error) {
	if len(ks) == 0 || len(ks) > 2 {
		return "", "", apierr.Validation("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have length less than or equal to 2 and greater than or equal to 1", len(ks), what)
	}
	for i, k := range ks {
		name, typ := awsapi.ToString(k.AttributeName), awsapi.ToString(k.KeyType)
		if name == "" {
			return "", "", apierr.Validation("1 validation error detected: Value null at '%s.%d.member.attributeName' failed to satisfy constraint: Member must not be null", what, i+1)
		}
		switch {
		case i == 0 && typ != "HASH":
			return "", "", apierr.Validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
		case i == 1 && typ != "RANGE":
			return "", "", apierr.Validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
		case i == 1 && name == awsapi.ToString(ks[0].AttributeName):
			return "", "", apierr.Validation("Both the Hash Key and the Range Key element in the KeySchema have the same name")
		}
		if i == 0 {
			hash = name
		} else {
			rng = name
		}
	}
	return hash, rng, nil
}

// gsiKeySchema reads a global index's key schema: up to 4 HASH then up to
// 4 RANGE attributes ("Multi-attribute keys" for global secondary indexes).
func gsiKeySchema(ix *index, ks []ddb.KeySchemaElement, what string) error {
	if len(ks) < 2 || (len(ks) == 2 && awsapi.ToString(ks[1].KeyType) != "HASH") {
		var err error
		ix.Hash, ix.Range, err = keySchema(ks, what)
		return err
	}
	var hashes, ranges []string
	seen := map[string]bool{}
	for i, k := range ks {
		name, typ := awsapi.ToString(k.AttributeName), awsapi.ToString(k.KeyType)
		if name == "" {
			return apierr.Validation("1 validation error detected: Value null at '%s.%d.member.attributeName' failed to satisfy constraint: Member must not be null", what, i+1)
		}
		if seen[name] {
			return invalid("Invalid KeySchema: two key attributes have the same name: %s", name)
		}
		seen[name] = true
		switch typ {
		case "HASH":
			if len(ranges) > 0 {
				return invalid("Invalid KeySchema: all HASH key attributes must precede the RANGE key attributes")
			}
			hashes = append(hashes, name)
		case "RANGE":
			if len(hashes) == 0 {
				return apierr.Validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
			}
			ranges = append(ranges, name)
		default:
			return apierr.Validation("1 validation error detected: Value '%s' at '%s.%d.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]", typ, what, i+1)
		}
	}
	if len(hashes) > 4 {
		return invalid("Invalid KeySchema: a global secondary index may have at most 4 HASH key attributes, got %d", len(hashes))
	}
	if len(ranges) > 4 {
		return invalid("Invalid KeySchema: a global secondary index may have at most 4 RANGE key attributes, got %d", len(ranges))
	}
	ix.Hash, ix.ExtraHash = hashes[0], hashes[1:]
	ix.Range, ix.ExtraRange = "", nil
	if len(ranges) > 0 {
		ix.Range, ix.ExtraRange = ranges[0], ranges[1:]
	}
	return nil
}

// indexSchema is an index's KeySchema, every key attribute in order.
func indexSchema(ix *index) []ddb.KeySchemaElement {
	var ks []ddb.KeySchemaElement
	for _, n := range ix.hashKeys() {
		ks = append(ks, ddb.KeySchemaElement{AttributeName: awsapi.String(n), KeyType: awsapi.String("HASH")})
	}
	for _, n := range ix.rangeKeys() {
		ks = append(ks, ddb.KeySchemaElement{AttributeName: awsapi.String(n), KeyType: awsapi.String("RANGE")})
	}
	return ks
}

func projection(p *ddb.Projection) (string, []string, error) {
	if p == nil || p.ProjectionType == nil {
		return "", nil, apierr.Validation("One or more parameter values were invalid: Unknown ProjectionType: null")
	}
	switch t := *p.ProjectionType; t {
	case "ALL", "KEYS_ONLY":
		if len(p.NonKeyAttributes) > 0 {
			return "", nil, invalid("ProjectionType is %s, but NonKeyAttributes is specified", t)
		}
		return t, nil, nil
	case "INCLUDE":
		if len(p.NonKeyAttributes) == 0 {
			return "", nil, invalid("ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
		}
		for i, a := range p.NonKeyAttributes {
			if slices.Contains(p.NonKeyAttributes[:i], a) {
				return "", nil, invalid("Duplicate attribute names in NonKeyAttributes: %s", a)
			}
		}
		return t, append([]string(nil), p.NonKeyAttributes...), nil
	default:
		return "", nil, invalid("Unknown ProjectionType: %s", t)
	}
}

func throughput(billing string, pt *ddb.ProvisionedThroughput) (rcu, wcu int64, err error) {
	if billing == "PAY_PER_REQUEST" {
		if pt != nil && (pt.ReadCapacityUnits != nil || pt.WriteCapacityUnits != nil) {
			return 0, 0, invalid("Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
		}
		return 0, 0, nil
	}
	if pt == nil || pt.ReadCapacityUnits == nil || pt.WriteCapacityUnits == nil {
		return 0, 0, invalid("ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
	}
	if *pt.ReadCapacityUnits < 1 || *pt.WriteCapacityUnits < 1 {
		return 0, 0, apierr.Validation("1 validation error detected: Value '0' at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1")
	}
	return *pt.ReadCapacityUnits, *pt.WriteCapacityUnits, nil
}

// CreateTable creates a table, ACTIVE at once: wharf has nothing to provision.
func (s *Service) CreateTable(ctx context.Context, in *ddb.CreateTableInput) (*ddb.CreateTableOutput, error) {
	if err := checkTableName(in.TableName); err != nil {
		return nil, err
	}
	keyNames := keyAttrNames{}
	keyNames.defs("attributeDefinitions", in.AttributeDefinitions)
	keyNames.schema("keySchema", in.KeySchema)
	for i, g := range in.GlobalSecondaryIndexes {
		keyNames.schema(fmt.Sprintf("globalSecondaryIndexes.%d.member.keySchema", i+1), g.KeySchema)
	}
	for i, l := range in.LocalSecondaryIndexes {
		keyNames.schema(fmt.Sprintf("localSecondaryIndexes.%d.member.keySchema", i+1), l.KeySchema)
	}
	if err := keyNames.check(); err != nil {
		return nil, err
	}
	account, region := caller(ctx)
	t := &table{
		Name: *in.TableName, ID: s.newID(), Account: account, Region: region, Created: s.now().UTC(),
		Attrs: map[string]string{}, Tags: map[string]string{},
		DeletionProtection: awsapi.ToBool(in.DeletionProtectionEnabled),
		TableClass:         awsapi.ToString(in.TableClass),
	}
	var err error
	if t.SSE, err = sseFrom(in.SSESpecification, account, region); err != nil {
		return nil, err
	}
	if t.Hash, t.Range, err = keySchema(in.KeySchema, "keySchema"); err != nil {
		return nil, err
	}
	defined := map[string]string{}
	var definedNames []string
	for _, a := range in.AttributeDefinitions {
		name, typ := awsapi.ToString(a.AttributeName), awsapi.ToString(a.AttributeType)
		if typ != "S" && typ != "N" && typ != "B" {
			return nil, apierr.Validation("1 validation error detected: Value '%s' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]", typ)
		}
		if _, dup := defined[name]; dup {
			return nil, invalid("Duplicate AttributeName in AttributeDefinitions: %s", name)
		}
		defined[name] = typ
		definedNames = append(definedNames, name)
	}
	t.Billing = awsapi.ToString(in.BillingMode)
	if t.Billing == "" {
		t.Billing = "PROVISIONED"
	}
	if t.Billing != "PROVISIONED" && t.Billing != "PAY_PER_REQUEST" {
		return nil, apierr.Validation("1 validation error detected: Value '%s' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]", t.Billing)
	}
	if t.RCU, t.WCU, err = throughput(t.Billing, in.ProvisionedThroughput); err != nil {
		return nil, err
	}
	used := map[string]bool{t.Hash: true}
	if t.Range != "" {
		used[t.Range] = true
	}
	for _, l := range in.LocalSecondaryIndexes {
		ix := index{Name: awsapi.ToString(l.IndexName)}
		if ix.Hash, ix.Range, err = keySchema(l.KeySchema, "localSecondaryIndexes.member.keySchema"); err != nil {
			return nil, err
		}
		if t.Range == "" {
			return nil, invalid("Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex")
		}
		if ix.Hash != t.Hash || ix.Range == "" {
			return nil, invalid("Index KeySchema does not have the same leading hash key as table KeySchema for index: %s. index hash key: %s, table hash key: %s", ix.Name, ix.Hash, t.Hash)
		}
		if ix.Projection, ix.NonKey, err = projection(l.Projection); err != nil {
			return nil, err
		}
		used[ix.Range] = true
		t.Indexes = append(t.Indexes, ix)
	}
	for _, g := range in.GlobalSecondaryIndexes {
		ix := index{Name: awsapi.ToString(g.IndexName), Global: true}
		if err = gsiKeySchema(&ix, g.KeySchema, "globalSecondaryIndexes.member.keySchema"); err != nil {
			return nil, err
		}
		if ix.Projection, ix.NonKey, err = projection(g.Projection); err != nil {
			return nil, err
		}
		if t.Billing == "PROVISIONED" {
			if ix.RCU, ix.WCU, err = throughput(t.Billing, g.ProvisionedThroughput); err != nil {
				return nil, err
			}
		}
		for _, n := range ix.keyNames() {
			used[n] = true
		}
		t.Indexes = append(t.Indexes, ix)
	}
	names := map[string]bool{}
	for _, ix := range t.Indexes {
		if err := checkIndexName(ix.Name); err != nil {
			return nil, err
		}
		if names[ix.Name] {
			return nil, invalid("Duplicate index name: %s", ix.Name)
		}
		names[ix.Name] = true
	}
	var missing []string
	for name := range used {
		if _, ok := defined[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, invalid("Some index key attributes are not defined in AttributeDefinitions. Keys: [%s], AttributeDefinitions: [%s]", strings.Join(missing, ", "), strings.Join(definedNames, ", "))
	}
	if len(defined) != len(used) {
		return nil, invalid("Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
	}
	t.Attrs = defined
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	for _, tag := range in.Tags {
		t.Tags[awsapi.ToString(tag.Key)] = awsapi.ToString(tag.Value)
	}
	if ss := in.StreamSpecification; ss != nil && awsapi.ToBool(ss.StreamEnabled) {
		if err := t.setStream(ss, t.Created); err != nil {
			return nil, err
		}
	}
	if in.ResourcePolicy != nil {
		if err := checkPolicyDocument(*in.ResourcePolicy, "resourcePolicy"); err != nil {
			return nil, err
		}
		// Before the write commits, as in PutResourcePolicy: an
		// authorization that follows this answer must read the policy.
		s.policies.Store(policiesMaybe)
	}
	err = s.st.Update(func(tx store.Tx) error {
		if raw, err := tx.Get(tableKey(account, region, t.Name)); err != nil {
			return err
		} else if raw != nil {
			return ddb.ErrResourceInUseException("Table already exists: %s", t.Name)
		}
		if err := saveTable(tx, t); err != nil {
			return err
		}
		if in.ResourcePolicy == nil {
			return nil
		}
		// The policy is attached in the table's own commit: the table never
		// exists without it (CreateTable's policy is strongly consistent).
		_, err := s.putPolicy(tx, t, *in.ResourcePolicy, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ddb.CreateTableOutput{TableDescription: s.describe(nil, t, "ACTIVE")}, nil
}

// stats are a table's item count and size, and each index's.
type stats struct {
	count, size int64
	ixCount     map[string]int64
	ixSize      map[string]int64
}

func (s *Service) tableStats(tx store.Tx, t *table) (stats, error) {
	st := stats{ixCount: map[string]int64{}, ixSize: map[string]int64{}}
	now := s.now()
	prefix := t.itemPrefix()
	err := tx.Scan(prefix, nil, func(k, v []byte) (bool, error) {
		item, err := decodeItem(v)
		if err != nil {
			return false, err
		}
		if t.expired(item, now) {
			return true, nil
		}
		size := int64(itemSize(item))
		st.count++
		st.size += size
		for i := range t.Indexes {
			ix := &t.Indexes[i]
			if t.indexKey(ix, item, k[len(prefix):]) != nil {
				st.ixCount[ix.Name]++
				st.ixSize[ix.Name] += int64(itemSize(t.project(ix, item)))
			}
		}
		return true, nil
	})
	return st, err
}

// describe renders t's TableDescription; tx, when not nil, supplies the counts.
func (s *Service) describe(tx store.Tx, t *table, status string) *ddb.TableDescription {
	var st stats
	if tx != nil {
		var err error
		if st, err = s.tableStats(tx, t); err != nil {
			s.log.Error("dynamodb table stats", "table", t.Name, "err", err)
		}
	}
	created := t.Created
	d := &ddb.TableDescription{
		TableName:        awsapi.String(t.Name),
		TableId:          awsapi.String(uuidFromID(t.ID)),
		TableArn:         awsapi.String(t.arn()),
		TableStatus:      awsapi.String(status),
		CreationDateTime: &created,
		ItemCount:        awsapi.Int64(st.count),
		TableSizeBytes:   awsapi.Int64(st.size),
		KeySchema:        schema(t.Hash, t.Range),
		ProvisionedThroughput: &ddb.ProvisionedThroughputDescription{
			ReadCapacityUnits: awsapi.Int64(t.RCU), WriteCapacityUnits: awsapi.Int64(t.WCU), NumberOfDecreasesToday: awsapi.Int64(0),
		},
		BillingModeSummary:        &ddb.BillingModeSummary{BillingMode: awsapi.String(t.Billing)},
		DeletionProtectionEnabled: awsapi.Bool(t.DeletionProtection),
	}
	if t.Billing == "PAY_PER_REQUEST" {
		d.BillingModeSummary.LastUpdateToPayPerRequestDateTime = &created
	}
	names := make([]string, 0, len(t.Attrs))
	for n := range t.Attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		d.AttributeDefinitions = append(d.AttributeDefinitions, ddb.AttributeDefinition{AttributeName: awsapi.String(n), AttributeType: awsapi.String(t.Attrs[n])})
	}
	d.SSEDescription = t.SSE.description()
	if t.TableClass != "" {
		d.TableClassSummary = &ddb.TableClassSummary{TableClass: awsapi.String(t.TableClass)}
	}
	if t.StreamEnabled {
		d.StreamSpecification = &ddb.StreamSpecification{StreamEnabled: awsapi.Bool(true), StreamViewType: awsapi.String(t.StreamViewType)}
	}
	if n := len(t.Streams); n > 0 {
		d.LatestStreamLabel = awsapi.String(t.Streams[n-1].Label)
		d.LatestStreamArn = awsapi.String(t.streamARN(t.Streams[n-1].Label))
	}
	for _, ix := range t.Indexes {
		p := &ddb.Projection{ProjectionType: awsapi.String(ix.Projection)}
		if len(ix.NonKey) > 0 {
			p.NonKeyAttributes = ix.NonKey
		}
		arn := t.arn() + "/index/" + ix.Name
		if ix.Global {
			d.GlobalSecondaryIndexes = append(d.GlobalSecondaryIndexes, ddb.GlobalSecondaryIndexDescription{
				IndexName: awsapi.String(ix.Name), KeySchema: indexSchema(&ix), Projection: p,
				IndexStatus: awsapi.String("ACTIVE"), IndexArn: awsapi.String(arn),
				ItemCount: awsapi.Int64(st.ixCount[ix.Name]), IndexSizeBytes: awsapi.Int64(st.ixSize[ix.Name]),
				ProvisionedThroughput: &ddb.ProvisionedThroughputDescription{
					ReadCapacityUnits: awsapi.Int64(ix.RCU), WriteCapacityUnits: awsapi.Int64(ix.WCU), NumberOfDecreasesToday: awsapi.Int64(0),
				},
			})
		} else {
			d.LocalSecondaryIndexes = append(d.LocalSecondaryIndexes, ddb.LocalSecondaryIndexDescription{
				IndexName: awsapi.String(ix.Name), KeySchema: schema(ix.Hash, ix.Range), Projection: p,
				IndexArn:  awsapi.String(arn),
				ItemCount: awsapi.Int64(st.ixCount[ix.Name]), IndexSizeBytes: awsapi.Int64(st.ixSize[ix.Name]),
			})
		}
	}
	return d
}

// uuidFromID formats the table's 32-hex-digit id as a UUID.
func uuidFromID(id string) string {
	if len(id) != 32 {
		return id
	}
	return id[0:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:]
}

func schema(hash, rng string) []ddb.KeySchemaElement {
	ks := []ddb.KeySchemaElement{{AttributeName: awsapi.String(hash), KeyType: awsapi.String("HASH")}}
	if rng != "" {
		ks = append(ks, ddb.KeySchemaElement{AttributeName: awsapi.String(rng), KeyType: awsapi.String("RANGE")})
	}
	return ks
}

// DescribeTable describes a table, with its current item count and size.
func (s *Service) DescribeTable(ctx context.Context, in *ddb.DescribeTableInput) (*ddb.DescribeTableOutput, error) {
	if err := checkTableName(in.TableName); err != nil {
		return nil, err
	}
	account, region := caller(ctx)
	var d *ddb.TableDescription
	err := s.st.View(func(tx store.Tx) error {
		t, err := loadTable(tx, account, region, *in.TableName)
		if err != nil {
			return err
		}
		d = s.describe(tx, t, "ACTIVE")
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ddb.DescribeTableOutput{Table: d}, nil
}

// ListTables lists table names in order, 100 at most per page.
func (s *Service) ListTables(ctx context.Context, in *ddb.ListTablesInput) (*ddb.ListTablesOutput, error) {
	limit := int(awsapi.ToInt32(in.Limit))
	if in.Limit != nil && (limit < 1 || limit > 100) {
		return nil, apierr.Validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100", limit)
	}
	if limit == 0 {
		limit = 100
	}
	account, region := caller(ctx)
	prefix := tablePrefix(account, region)
	var start []byte
	if in.ExclusiveStartTableName != nil {
		start = append(append(append([]byte(nil), prefix...), *in.ExclusiveStartTableName...), 0)
	}
	out := &ddb.ListTablesOutput{TableNames: []string{}}
	err := s.st.View(func(tx store.Tx) error {
		return tx.Scan(prefix, start, func(k, v []byte) (bool, error) {
			if len(out.TableNames) == limit {
				out.LastEvaluatedTableName = awsapi.String(out.TableNames[limit-1])
				return false, nil
			}
			out.TableNames = append(out.TableNames, string(k[len(prefix):]))
			return true, nil
		})
	})
	return out, err
}

// DeleteTable deletes a table with its items and index entries.
func (s *Service) DeleteTable(ctx context.Context, in *ddb.DeleteTableInput) (*ddb.DeleteTableOutput, error) {
	if err := checkTableName(in.TableName); err != nil {
		return nil, err
	}
	account, region := caller(ctx)
	var d *ddb.TableDescription
	err := s.st.Update(func(tx store.Tx) error {
		t, err := loadTable(tx, account, region, *in.TableName)
		if err != nil {
			return err
		}
		if t.DeletionProtection {
			return apierr.Validation("Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
		}
		d = s.describe(tx, t, "DELETING")
		// DeleteTable's description leaves out the schema DescribeTable gives
		// (creation time, keys, attribute definitions, indexes).
		d.CreationDateTime, d.KeySchema, d.AttributeDefinitions = nil, nil, nil
		d.GlobalSecondaryIndexes, d.LocalSecondaryIndexes = nil, nil
		for _, prefix := range [][]byte{t.itemPrefix(), []byte("ddb/x/" + t.ID + "/")} {
			if err := deletePrefix(tx, prefix); err != nil {
				return err
			}
		}
		if err := deleteBackups(tx, t); err != nil {
			return err
		}
		return tx.Delete(tableKey(account, region, t.Name))
	})
	if err != nil {
		return nil, err
	}
	return &ddb.DeleteTableOutput{TableDescription: d}, nil
}

func deletePrefix(tx store.Tx, prefix []byte) error {
	var keys [][]byte
	err := tx.Scan(prefix, nil, func(k, v []byte) (bool, error) {
		keys = append(keys, append([]byte(nil), k...))
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// UpdateTable changes billing, throughput, deletion protection and streams,
// and creates (backfilled at once) or deletes global secondary indexes.
func (s *Service) UpdateTable(ctx context.Context, in *ddb.UpdateTableInput) (*ddb.UpdateTableOutput, error) {
	if err := checkTableName(in.TableName); err != nil {
		return nil, err
	}
	names := keyAttrNames{}
	names.defs("attributeDefinitions", in.AttributeDefinitions)
	for i, u := range in.GlobalSecondaryIndexUpdates {
		if u.Create != nil {
			names.schema(fmt.Sprintf("globalSecondaryIndexUpdates.%d.member.create.keySchema", i+1), u.Create.KeySchema)
		}
	}
	if err := names.check(); err != nil {
		return nil, err
	}
	if in.BillingMode == nil && in.ProvisionedThroughput == nil && in.DeletionProtectionEnabled == nil && in.TableClass == nil &&
		in.StreamSpecification == nil && len(in.GlobalSecondaryIndexUpdates) == 0 && in.SSESpecification == nil && len(in.ReplicaUpdates) == 0 &&
		in.OnDemandThroughput == nil && in.WarmThroughput == nil && in.MultiRegionConsistency == nil &&
		len(in.GlobalTableWitnessUpdates) == 0 && in.GlobalTableSettingsReplicationMode == nil {
		return nil, apierr.Validation("UpdateTable needs at least one change: ProvisionedThroughput, BillingMode, StreamSpecification, GlobalSecondaryIndexUpdates, DeletionProtectionEnabled, TableClass, SSESpecification or ReplicaUpdates")
	}
	for _, u := range in.GlobalSecondaryIndexUpdates {
		if n := btoi(u.Create != nil) + btoi(u.Update != nil) + btoi(u.Delete != nil); n != 1 {
			return nil, invalid("each GlobalSecondaryIndexUpdate must have exactly one of Create, Update or Delete, not none or more than one")
		}
		// A new index's key attributes are defined in this request, even
		// when the table already knows them.
		if c := u.Create; c != nil {
			for _, k := range c.KeySchema {
				if !slices.ContainsFunc(in.AttributeDefinitions, func(a ddb.AttributeDefinition) bool {
					return awsapi.ToString(a.AttributeName) == awsapi.ToString(k.AttributeName)
				}) {
					return nil, invalid("Some index key attributes are not defined in AttributeDefinitions. Keys: [%s], AttributeDefinitions: the request's", awsapi.ToString(k.AttributeName))
				}
			}
		}
	}
	changes := 0
	for _, u := range in.GlobalSecondaryIndexUpdates {
		changes += btoi(u.Create != nil) + btoi(u.Delete != nil)
	}
	if changes > 1 {
		return nil, ddb.ErrLimitExceededException("Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table")
	}
	account, region := caller(ctx)
	var d *ddb.TableDescription
	err := s.st.Update(func(tx store.Tx) error {
		t, err := loadTable(tx, account, region, *in.TableName)
		if err != nil {
			return err
		}
		for _, a := range in.AttributeDefinitions {
			name, typ := awsapi.ToString(a.AttributeName), awsapi.ToString(a.AttributeType)
			if old, ok := t.Attrs[name]; ok && old != typ {
				return invalid("Attributes cannot be redefined. Please check that your attribute has the same type as previously defined. Attribute: %s, existing type: %s, new type: %s", name, old, typ)
			}
			t.Attrs[name] = typ
		}
		if in.BillingMode != nil {
			t.Billing = *in.BillingMode
			if t.Billing == "PAY_PER_REQUEST" {
				t.RCU, t.WCU = 0, 0
				for i := range t.Indexes {
					t.Indexes[i].RCU, t.Indexes[i].WCU = 0, 0
				}
			}
		}
		if in.ProvisionedThroughput != nil {
			if t.RCU, t.WCU, err = throughput(t.Billing, in.ProvisionedThroughput); err != nil {
				return err
			}
		} else if t.Billing == "PROVISIONED" && t.RCU == 0 {
			return invalid("ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
		}
		if in.DeletionProtectionEnabled != nil {
			t.DeletionProtection = *in.DeletionProtectionEnabled
		}
		if in.TableClass != nil {
			t.TableClass = *in.TableClass
		}
		if in.SSESpecification != nil {
			if t.SSE, err = sseFrom(in.SSESpecification, account, region); err != nil {
				return err
			}
		}
		if ss := in.StreamSpecification; ss != nil {
			if err := t.setStream(ss, s.now()); err != nil {
				return err
			}
		}
		for _, u := range in.GlobalSecondaryIndexUpdates {
			switch {
			case u.Create != nil:
				if err := s.createGSI(tx, t, u.Create); err != nil {
					return err
				}
			case u.Delete != nil:
				name := awsapi.ToString(u.Delete.IndexName)
				ix := t.index(name)
				if ix == nil || !ix.Global {
					return ddb.ErrResourceNotFoundException("Requested resource not found: Index: %s not found", name)
				}
				if err := deletePrefix(tx, t.indexPrefix(ix)); err != nil {
					return err
				}
				kept := t.Indexes[:0]
				for _, x := range t.Indexes {
					if x.Name != name {
						kept = append(kept, x)
					}
				}
				t.Indexes = kept
			case u.Update != nil:
				ix := t.index(awsapi.ToString(u.Update.IndexName))
				if ix == nil || !ix.Global {
					return ddb.ErrResourceNotFoundException("Requested resource not found: Index: %s not found", awsapi.ToString(u.Update.IndexName))
				}
				if ix.RCU, ix.WCU, err = throughput(t.Billing, u.Update.ProvisionedThroughput); err != nil {
					return err
				}
			}
		}
		if err := saveTable(tx, t); err != nil {
			return err
		}
		d = s.describe(tx, t, "ACTIVE")
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ddb.UpdateTableOutput{TableDescription: d}, nil
}

func (s *Service) createGSI(tx store.Tx, t *table, c *ddb.CreateGlobalSecondaryIndexAction) error {
	ix := index{Name: awsapi.ToString(c.IndexName), Global: true}
	if err := checkIndexName(ix.Name); err != nil {
		return err
	}
	if t.index(ix.Name) != nil {
		return invalid("Attempting to create an index which already exists")
	}
	var err error
	if err = gsiKeySchema(&ix, c.KeySchema, "globalSecondaryIndexUpdates.member.create.keySchema"); err != nil {
		return err
	}
	for _, k := range ix.keyNames() {
		if _, ok := t.Attrs[k]; k != "" && !ok {
			return invalid("Some index key attributes are not defined in AttributeDefinitions. Keys: [%s]", k)
		}
	}
	if ix.Projection, ix.NonKey, err = projection(c.Projection); err != nil {
		return err
	}
	if t.Billing == "PROVISIONED" {
		if ix.RCU, ix.WCU, err = throughput(t.Billing, c.ProvisionedThroughput); err != nil {
			return err
		}
	}
	t.Indexes = append(t.Indexes, ix)
	added := &t.Indexes[len(t.Indexes)-1]
	prefix := t.itemPrefix()
	type entry struct{ k, v []byte }
	var entries []entry
	err = tx.Scan(prefix, nil, func(k, v []byte) (bool, error) {
		item, err := decodeItem(v)
		if err != nil {
			return false, err
		}
		key := append([]byte(nil), k[len(prefix):]...)
		if ik := t.indexKey(added, item, key); ik != nil {
			entries = append(entries, entry{ik, key})
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := tx.Put(e.k, e.v); err != nil {
			return err
		}
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// UpdateTimeToLive enables or disables TTL on one attribute.
func (s *Service) UpdateTimeToLive(ctx context.Context, in *ddb.UpdateTimeToLiveInput) (*ddb.UpdateTimeToLiveOutput, error) {
	if err := checkTableName(in.TableName); err != nil {
		return nil, err
	}
	spec := in.TimeToLiveSpecification
	switch {
	case spec == nil:
		return nil, apierr.Validation("1 validation error detected: Value null at 'timeToLiveSpecification' failed to satisfy constraint: Member must not be null")
	case spec.AttributeName == nil:
		return nil, apierr.Validation("1 validation error detected: Value null at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must not be null")
	case spec.Enabled == nil:
		return nil, apierr.Validation("1 validation error detected: Value null at 'timeToLiveSpecification.enabled' failed to satisfy constraint: Member must not be null")
	case len(*spec.AttributeName) < 1:
		return nil, apierr.Validation("1 validation error detected: Value '' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length greater than or equal to 1")
	case len(*spec.AttributeName) > 255:
		return nil, apierr.Validation("1 validation error detected: Value '%s' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length less than or equal to 255", *spec.AttributeName)
	}
	account, region := caller(ctx)
	err := s.st.Update(func(tx store.Tx) error {
		t, err := loadTable(tx, account, region, *in.TableName)
		if err != nil {
			return err
		}
		switch {
		case *spec.Enabled && t.TTLEnabled:
			return apierr.Validation("TimeToLive is already enabled")
		case !*spec.Enabled && !t.TTLEnabled:
			return apierr.Validation("TimeToLive is already disabled")
		case !*spec.Enabled && t.TTLAttr != *spec.AttributeName:
			return apierr.Validation("TimeToLive is active on a different AttributeName: current AttributeName is %s", t.TTLAttr)
		}
		t.TTLEnabled = *spec.Enabled
		t.TTLAttr = *spec.AttributeName
		return saveTable(tx, t)
	})
	if err != nil {
		return nil, err
	}
	return &ddb.UpdateTimeToLiveOutput{TimeToLiveSpecification: spec}, nil
}

// DescribeTimeToLive reports a table's TTL setting.
func (s *Service) DescribeTimeToLive(ctx context.Context, in *ddb.DescribeTimeToLiveInput) (*ddb.DescribeTimeToLiveOutput, error) {
	t, err := s.getTable(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	d := &ddb.TimeToLiveDescription{TimeToLiveStatus: awsapi.String("DISABLED")}
	if t.TTLEnabled {
		d.TimeToLiveStatus = awsapi.String("ENABLED")
		d.AttributeName = awsapi.String(t.TTLAttr)
	}
	return &ddb.DescribeTimeToLiveOutput{TimeToLiveDescription: d}, nil
}

// tableFromARN finds the table an ARN names, in the caller's account and region.
func (s *Service) updateTagged(ctx context.Context, arn *string, fn func(t *table) error) error {
	a := awsapi.ToString(arn)
	account, region := caller(ctx)
	if !strings.HasPrefix(a, "arn:") {
		return apierr.Validation("ARNs must start with 'arn:': %s", a)
	}
	parts := strings.SplitN(a, ":", 6)
	name := strings.TrimPrefix(parts[len(parts)-1], "table/")
	// An index's ARN names no taggable resource: tags are the table's.
	if len(parts) != 6 || parts[2] != "dynamodb" || !strings.HasPrefix(parts[5], "table/") || strings.Contains(name, "/") {
		return apierr.Validation("Invalid TableArn: Invalid ResourceArn provided as input %s", a)
	}
	if parts[3] != region || parts[4] != account {
		return ddb.ErrResourceNotFoundException("Requested resource not found: ResourcArn: %s not found", a)
	}
	return s.st.Update(func(tx store.Tx) error {
		t, err := loadTable(tx, account, region, name)
		if err != nil {
			return ddb.ErrResourceNotFoundException("Requested resource not found: ResourcArn: %s not found", a)
		}
		if t.Tags == nil {
			t.Tags = map[string]string{}
		}
		before, _ := json.Marshal(t.Tags)
		if err := fn(t); err != nil {
			return err
		}
		if after, _ := json.Marshal(t.Tags); string(before) == string(after) {
			return nil
		}
		return saveTable(tx, t)
	})
}

// tagRE is what a tag key or value may hold ("Tagging resources in
// DynamoDB": letters, whitespace, numbers and + - = . _ : / @).
var tagRE = lazyregexp.New(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

// checkTags validates tags as DynamoDB does before it applies any.
func checkTags(tags []ddb.Tag) error {
	if len(tags) > 50 {
		return apierr.Validation("One or more parameter values were invalid: The number of tags exceeds the limit of 50")
	}
	for i, tag := range tags {
		if tag.Key == nil || tag.Value == nil {
			return apierr.Validation("1 validation error detected: Value null at 'tags.%d.member.%s' failed to satisfy constraint: Member must not be null", i+1, map[bool]string{true: "key", false: "value"}[tag.Key == nil])
		}
		k, v := *tag.Key, *tag.Value
		switch {
		case utf8.RuneCountInString(k) < 1:
			return apierr.Validation("1 validation error detected: Value '%s' at 'tags.%d.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1", k, i+1)
		case utf8.RuneCountInString(k) > 128:
			return apierr.Validation("1 validation error detected: Value '%s' at 'tags.%d.member.key' failed to satisfy constraint: Member must have length less than or equal to 128", k, i+1)
		case utf8.RuneCountInString(v) > 256:
			return apierr.Validation("1 validation error detected: Value '%s' at 'tags.%d.member.value' failed to satisfy constraint: Member must have length less than or equal to 256", v, i+1)
		case !tagRE.MatchString(k):
			return apierr.Validation("1 validation error detected: Value '%s' at 'tags.%d.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*", k, i+1)
		case !tagRE.MatchString(v):
			return apierr.Validation("1 validation error detected: Value '%s' at 'tags.%d.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*", v, i+1)
		}
	}
	return nil
}

// TagResource adds or replaces tags on a table.
func (s *Service) TagResource(ctx context.Context, in *ddb.TagResourceInput) (*ddb.TagResourceOutput, error) {
	if len(in.Tags) == 0 {
		return nil, apierr.Validation("1 validation error detected: Value '[]' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	err := s.updateTagged(ctx, in.ResourceArn, func(t *table) error {
		for _, tag := range in.Tags {
			t.Tags[awsapi.ToString(tag.Key)] = awsapi.ToString(tag.Value)
		}
		if len(t.Tags) > 50 {
			return apierr.Validation("The number of tags exceeds the limit of 50")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ddb.TagResourceOutput{}, nil
}

// UntagResource removes tags from a table.
func (s *Service) UntagResource(ctx context.Context, in *ddb.UntagResourceInput) (*ddb.UntagResourceOutput, error) {
	err := s.updateTagged(ctx, in.ResourceArn, func(t *table) error {
		for _, k := range in.TagKeys {
			delete(t.Tags, k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ddb.UntagResourceOutput{}, nil
}

// ListTagsOfResource lists a table's tags, sorted by key.
func (s *Service) ListTagsOfResource(ctx context.Context, in *ddb.ListTagsOfResourceInput) (*ddb.ListTagsOfResourceOutput, error) {
	out := &ddb.ListTagsOfResourceOutput{Tags: []ddb.Tag{}}
	err := s.updateTagged(ctx, in.ResourceArn, func(t *table) error {
		keys := make([]string, 0, len(t.Tags))
		for k := range t.Tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out.Tags = append(out.Tags, ddb.Tag{Key: awsapi.String(k), Value: awsapi.String(t.Tags[k])})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DescribeEndpoints names the endpoint the caller already uses.
func (s *Service) DescribeEndpoints(ctx context.Context, in *ddb.DescribeEndpointsInput) (*ddb.DescribeEndpointsOutput, error) {
	host := awsapi.CallerFrom(ctx).Host
	if host == "" {
		_, region := caller(ctx)
		host = "dynamodb." + region + ".amazonaws.com"
	}
	return &ddb.DescribeEndpointsOutput{Endpoints: []ddb.Endpoint{{Address: awsapi.String(host), CachePeriodInMinutes: awsapi.Int64(1440)}}}, nil
}

// DescribeLimits reports DynamoDB's default account and table quotas.
func (s *Service) DescribeLimits(ctx context.Context, in *ddb.DescribeLimitsInput) (*ddb.DescribeLimitsOutput, error) {
	return &ddb.DescribeLimitsOutput{
		AccountMaxReadCapacityUnits:  awsapi.Int64(80000),
		AccountMaxWriteCapacityUnits: awsapi.Int64(80000),
		TableMaxReadCapacityUnits:    awsapi.Int64(40000),
		TableMaxWriteCapacityUnits:   awsapi.Int64(40000),
	}, nil
}
