# Characters for the subset: ASCII, common punctuation (half- and full-width), all GB2312.
chars = set(chr(c) for c in range(0x20, 0x7f))
chars |= set("，。：；（）、《》“”‘’％！？·—…～【】「」『』〈〉［］｛｝＋－＝＜＞／＼｜＿＠＃＆＊¥￥€°±×÷≤≥≠√∞‰§№℃　")
for hi in range(0xA1, 0xF8):
    for lo in range(0xA1, 0xFF):
        try:
            chars.add(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
chars.discard("\x7f")
with open("chars.txt", "w", encoding="utf-8") as f:
    f.write("".join(sorted(chars)))
print(len(chars))
