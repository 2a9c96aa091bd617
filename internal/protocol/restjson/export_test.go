package restjson

// DecodeNoRecover exposes decode to the fuzz target.
var DecodeNoRecover = decode
