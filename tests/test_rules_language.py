"""Language per ad: scripts first, then function words, deterministic."""
import pytest

from rules.language import detect_language


@pytest.mark.parametrize("text, lang", [
    ("We are looking for a friendly receptionist to join our clinic team in Leeds.", "en"),
    ("Kami mencari staf gudang yang teliti, tidak perlu pengalaman, gaji dibayar setiap bulan.", "id"),
    ("Jawatan kosong pembantu kedai, boleh mula segera, sila hubungi kami untuk temuduga.", "ms"),
    ("Naghahanap kami ng cashier, walang experience na kailangan, may libreng pagkain po.", "tl"),
    ("Estamos contratando vendedor para loja no centro, com carteira assinada e vale transporte.", "pt"),
    ("Tuyển nhân viên bán hàng tại cửa hàng, lương cứng cộng thưởng.", "vi"),
    ("tuyen nhan vien ban hang tai cua hang, luong cung cong thuong, khong can kinh nghiem", "vi"),
    ("Tunatafuta dereva wa kampuni, mshahara mzuri na kazi ya kudumu kwa mwaka mzima.", "sw"),
    ("Humein ek accountant chahiye, salary achhi milegi aur kaam office mein hai.", "hi"),
    ("招聘会计一名，要求有相关工作经验。", "zh"),
    ("誠徵會計人員一名，需具備相關經驗。", "zh"),
    ("รับสมัครพนักงานบัญชี มีประสบการณ์ด้านบัญชี", "th"),
    ("ជ្រើសរើសគណនេយ្យករ មានបទពិសោធន៍", "km"),
    ("စာရင်းကိုင် ဝန်ထမ်း ခေါ်ယူမည်", "my"),
])
def test_detect(text, lang):
    assert detect_language(text) == lang


def test_deterministic_and_empty():
    text = "Short ad text"
    assert len({detect_language(text) for _ in range(5)}) == 1
    assert detect_language("") is None
    assert detect_language("   ") is None
