/* satoken: the release, as --version prints it ("satoken X.Y.Z").  Kept
 * equal to debian/changelog's version; make deb-check compares them. */
#ifndef SATOKEN_VERSION_H
#define SATOKEN_VERSION_H

#define SAT_VERSION "0.9.0"

#endif
