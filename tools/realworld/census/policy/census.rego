# One warning per rendered object naming its apiVersion and kind (check_corpus.py counts
# them, and strips them from the report). Not a rule anyone should run on a repository.
package main

warn contains msg if {
	msg := sprintf("kgate-census %v %v", [input.apiVersion, input.kind])
}
