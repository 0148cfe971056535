package output

import "fmt"

// Count says n of a thing in English: "1 object", "3 objects", "0 objects". noun is the
// singular; the plural adds "s" (every noun the plugin counts is regular).
func Count(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// CountOf says "k of n things", the noun agreeing with n: "1 of 1 object", "2 of 3 objects".
func CountOf(k, n int, noun string) string {
	return fmt.Sprintf("%d of %s", k, Count(n, noun))
}
