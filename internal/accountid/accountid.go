// Package accountid recognises AWS account IDs. Configuration, the front door
// (a 12-digit access key acts in that account under --auth any), IAM policy
// principals and SQS AddPermission all ask the same question.
package accountid

// Valid reports whether s is an account ID: 12 ASCII digits. A loop rather
// than the regular expression ^\d{12}$: it runs on every request signed with
// an unknown key, and a package-level pattern is compiled at every start.
func Valid(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
