// Package noi18n stops kubectl's libraries from loading their message translations, which each
// process otherwise did at start-up (about 35 ms, a third of `version --client`): the kubectl
// packages this plugin uses build their own cobra commands' help texts with i18n.T in package
// variables, and the plugin never shows those commands. It uses the hook kubectl provides for
// this (i18n.SetLoadTranslationsFunc), which must run before any package calls i18n.T: import it
// first, blank, from the main package. Untranslated, i18n.T returns its English text.
package noi18n

import "k8s.io/kubectl/pkg/util/i18n"

func init() {
	if err := i18n.SetLoadTranslationsFunc(func() error { return nil }); err != nil {
		panic(err) // an i18n.T ran first: the import order in main changed
	}
}
