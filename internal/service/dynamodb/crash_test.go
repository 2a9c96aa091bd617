package dynamodb

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/awsapi"
	ddb "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	"github.com/wharf-dev/wharf/internal/store"
)

const crashDirEnv = "WHARF_DYNAMODB_CRASH_DIR"

// TestCrashChild is the process TestTransactWriteItemsSurviveKill9 kills: it
// commits transactions on the disk store and prints each one it saw
// acknowledged. It does nothing unless the parent started it.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("run by TestTransactWriteItemsSurviveKill9")
	}
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{Store: st})
	ctx := context.Background()
	createTable(t, s, "crash", "pk", "S", "", "")
	for i := 1; ; i++ {
		n := nv(strconv.Itoa(i))
		_, err := s.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: []ddb.TransactWriteItem{
			{Put: &ddb.Put{TableName: awsapi.String("crash"), Item: map[string]Value{"pk": sv(fmt.Sprintf("a#%d", i)), "n": n}}},
			{Put: &ddb.Put{TableName: awsapi.String("crash"), Item: map[string]Value{"pk": sv(fmt.Sprintf("b#%d", i)), "n": n}}},
			{Update: &ddb.Update{TableName: awsapi.String("crash"), Key: map[string]Value{"pk": sv("counter")},
				UpdateExpression: awsapi.String("ADD n :one"), ExpressionAttributeValues: map[string]Value{":one": nv("1")}}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("ack %d\n", i)
	}
}

// TestTransactWriteItemsSurviveKill9 kills a process committing transactions
// with SIGKILL and checks the store it leaves: every acknowledged transaction
// is there, and every transaction is there whole or not at all.
func TestTransactWriteItemsSurviveKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() && acked < 200 {
		if v, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
			acked, _ = strconv.Atoi(v)
		}
	}
	cmd.Process.Kill() // SIGKILL: no shutdown, no flush
	cmd.Wait()
	if acked < 200 {
		t.Fatalf("child acknowledged only %d transactions", acked)
	}

	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := New(Options{Store: st})
	out2, err := s.Scan(context.Background(), &ddb.ScanInput{TableName: awsapi.String("crash")})
	if err != nil {
		t.Fatal(err)
	}
	present := map[string]bool{}
	counter := 0
	for _, it := range out2.Items {
		present[*it["pk"].S] = true
		if *it["pk"].S == "counter" {
			counter, _ = strconv.Atoi(*it["n"].N)
		}
	}
	last := 0
	for i := 1; present[fmt.Sprintf("a#%d", i)] || present[fmt.Sprintf("b#%d", i)]; i++ {
		if !present[fmt.Sprintf("a#%d", i)] || !present[fmt.Sprintf("b#%d", i)] {
			t.Fatalf("transaction %d is partly applied", i)
		}
		last = i
	}
	if last < acked {
		t.Fatalf("acknowledged %d transactions, only %d survived", acked, last)
	}
	if counter != last || len(out2.Items) != 2*last+1 {
		t.Fatalf("counter %d, %d items, for %d transactions", counter, len(out2.Items), last)
	}
}
