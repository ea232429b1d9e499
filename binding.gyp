{
  "variables": {
    # Set with `node-gyp rebuild -- -Dsanitize=address` (or thread); see README, "Sanitizers".
    "sanitize%": ""
  },
  "targets": [
    {
      "target_name": "constellation",
      "sources": ["<!@(node scripts/native-sources.js)"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native"
      ],
      # SWALLOW_UNTHROWABLE: a call from JavaScript into the addon while a worker is being
      # terminated fails, and node-addon-api cannot throw that failure into JavaScript either;
      # without this it rethrows in C++ and the process aborts (test/cluster/workers.test.ts).
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions", "-O3"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-O3"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "cflags_cc": ["-std=c++20", "-fexceptions", "-frtti", "-O2", "-Wall", "-Wextra"],
      "conditions": [
        ["sanitize=='address'", {
          "cflags": ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-g"],
          "cflags_cc": ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-g"],
          "ldflags": ["-fsanitize=address,undefined"]
        }],
        ["sanitize=='thread'", {
          "cflags": ["-fsanitize=thread", "-g"],
          "cflags_cc": ["-fsanitize=thread", "-g"],
          "ldflags": ["-fsanitize=thread"]
        }]
      ]
    }
  ]
}
