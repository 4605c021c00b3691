# The places where . differs from the shape $shapes[0][$cmd] (see
# json_shapes.json), one string each: none when it conforms.
#
#   ilpctl -j peer show | jq -r --slurpfile shapes json_shapes.json \
#       --arg cmd "peer show" -f json_shape.jq
def where($p): if $p == "" then "." else $p end;
def mismatch($s; $p):
  if ($s | type) == "string" then
    (type) as $t
    | if ($s | split("|") | index($t)) == null
      then "\(where($p)): \($t), not \($s)" else empty end
  elif ($s | type) == "array" then
    if type != "array" then "\(where($p)): \(type), not an array"
    elif length == 0 then "\(where($p)): an empty array (nothing to check)"
    else to_entries[] | .key as $i | .value | mismatch($s[0]; "\($p)[\($i)]") end
  elif ($s | type) == "object" and ($s | has("null_or")) then
    if . == null then empty else mismatch($s.null_or; $p) end
  elif ($s | type) == "object" then
    if type != "object" then "\(where($p)): \(type), not an object"
    else
      ((($s | keys) - keys)[] | "\(where($p)): no member \(.)"),
      ((keys - ($s | keys))[] | "\(where($p)): a member \(.) the shape does not have"),
      (to_entries[] | .key as $k | select($s | has($k)) | .value
        | mismatch($s[$k]; "\($p).\($k)"))
    end
  else "the shape of \(where($p)) is not one" end;
($shapes[0][$cmd]) as $s
| if ($shapes[0] | has($cmd)) | not then "no shape for '\($cmd)'"
  elif $s == null then "'\($cmd)' printed JSON, but prints nothing"
  else mismatch($s; "") end
