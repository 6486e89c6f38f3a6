-- Shared by every script (prepended when loaded): split a space-separated ARGV string.
local function words(text)
  local out = {}
  for word in string.gmatch(text, '%S+') do out[#out + 1] = word end
  return out
end
