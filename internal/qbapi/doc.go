// Package qbapi implements the part of QuickBlox's REST API that signing in to a
// QuickBlox application takes, as the QuickBlox web SDK (npm quickblox 2.23.0) does it:
//
//   - application sessions with the user's credentials (POST /session.json), signed with
//     HMAC-SHA1 or HMAC-SHA256 over the sorted, unencoded parameters (sign.go, checked byte
//     for byte against the SDK's own qbAuth.js: testdata/goldens.cjs);
//   - account_settings (the API and chat endpoints of an account, as the SDK's init);
//   - users by ID, login, email and full name (the users API), cached with an expiry;
//   - logout (DELETE /session.json);
//   - the ICE servers the SDK's config ships with (DefaultICEServers).
//
// An Account keeps one signed-in user: its session token is the chat password (the JID is
// {user_id}-{app_id}@{chat host}), renewed before it expires and when the chat server
// refuses it. Errors name what to fix in the config (errors.go); they never carry the
// server's raw JSON.
package qbapi
