"""Context words shared by several detectors: the labels of look-alikes (order numbers,
tracking numbers, listings, barcodes) that make a checksum-valid number "not personal",
and the bank words that claim a number for the bank account detector."""

from __future__ import annotations

from .context import Context

ORDER_WORDS = ("order", "order id", "order no", "đơn", "don hang", "mã đơn", "ma don", "đơn hàng", "คำสั่งซื้อ",
               "ออเดอร์", "tracking", "vận đơn", "van don", "mã vận đơn", "พัสดุ", "เลขพัสดุ", "awb", "#")
LISTING_WORDS = ("mã sản phẩm", "ma san pham", "mã sp", "ma sp", "sản phẩm", "item", "item id", "shop id",
                 "product id", "รหัสสินค้า", "สินค้า", "listing")
BARCODE_WORDS = ("barcode", "bar code", "mã vạch", "ma vach", "บาร์โค้ด", "บาร์โค๊ด", "ean", "gtin", "upc", "sku")

BANK_NAMES = (
    "vietcombank", "vcb", "techcombank", "tcb", "mb", "mbbank", "mb bank", "acb", "bidv", "vietinbank", "tpbank",
    "agribank", "sacombank", "vpbank", "shb", "hdbank", "vib", "ocb", "msb", "seabank", "eximbank", "lpbank",
    "lienvietpostbank", "nam a bank",
    "กสิกร", "กสิกรไทย", "kbank", "kasikorn", "ไทยพาณิชย์", "scb", "กรุงเทพ", "bbl", "bangkok bank", "กรุงไทย",
    "ktb", "krungthai", "กรุงศรี", "krungsri", "ทีทีบี", "ttb", "ทหารไทย", "ออมสิน", "gsb", "ธ.ก.ส.", "uob", "cimb",
    "kiatnakin")
BANK_WORDS = ("ngân hàng", "ngan hang", "ธนาคาร", "ธ.", "bank")  # words that go with a bank's name
ACCOUNT_WORDS = ("stk", "số tài khoản", "so tai khoan", "số tk", "so tk", "tài khoản", "tai khoan", "tk", "account",
                 "acc", "acct", "a/c", "bank account", "เลขบัญชี", "เลขที่บัญชี", "บัญชี", "บช.", "บ/ช",
                 "พร้อมเพย์", "promptpay")
PHONE_WORDS = ("zalo", "sdt", "sđt", "đt", "dt", "tel", "phone", "call", "gọi", "goi", "hotline", "mobile",
               "whatsapp", "line", "โทร", "เบอร์")

ORDER = Context(ORDER_WORDS + LISTING_WORDS, before=30)
BARCODE = Context(BARCODE_WORDS, before=30)
BANK = Context(ACCOUNT_WORDS + BANK_WORDS + BANK_NAMES, before=30)
