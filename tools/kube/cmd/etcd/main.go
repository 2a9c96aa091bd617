// Command etcd is etcd's server, built from go.etcd.io/etcd/server/v3 so that the
// single-node cluster of scripts/kube-up runs the etcd release Kubernetes was tested with.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
